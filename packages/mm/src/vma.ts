import type { Mappable } from "./mappable";

/** One line of /proc/PID/maps: a mapping as the application observes it. */
export interface VmaInfo {
  /** First address of the mapping. */
  readonly start: number;
  /** One past the last address of the mapping. */
  readonly end: number;
  /** PROT_READ/PROT_WRITE/PROT_EXEC bits. */
  readonly prot: number;
  /** True for MAP_SHARED mappings ("s" in /proc/PID/maps), false for private ones ("p"). */
  readonly shared: boolean;
  /** Byte offset into the mapped object of `start` (0 for anonymous memory). */
  readonly offset: number;
  /** "[heap]", "[stack]", a file path, "/dev/zero (deleted)", or "" for anonymous memory. */
  readonly name: string;
  /** True for a stack mapping that grows down on faults below it. */
  readonly growsDown: boolean;
  /** The mapped object, or undefined for private anonymous memory. */
  readonly mappable?: Mappable;
}

/**
 * A virtual memory area: a range of addresses with one protection and one
 * backing (private anonymous memory, or a range of a Mappable). The memory
 * manager keeps VMAs sorted and disjoint in a VmaSet; the pages actually
 * installed are tracked separately, as pmas.
 */
export class Vma {
  /** MADV_DONTFORK: fork() leaves the range out of the child. */
  dontFork = false;
  /** MADV_WIPEONFORK: the range is zero-filled in the child of fork(). */
  wipeOnFork = false;

  constructor(
    /** First address, page-aligned. */
    public start: number,
    /** One past the last address, page-aligned. */
    public end: number,
    /** Current PROT_* bits. */
    public prot: number,
    /** PROT_* bits that mprotect may grant (limited by the file's open mode). */
    public maxProt: number,
    /** MAP_SHARED rather than MAP_PRIVATE. */
    public shared: boolean,
    /** MAP_GROWSDOWN: faults just below `start` extend the VMA down. */
    public growsDown: boolean,
    /** The mapped object, or null for private anonymous memory. */
    public mappable: Mappable | null,
    /** Byte offset into `mappable` of `start`; 0 for private anonymous memory. */
    public offset: number,
    /** Name for /proc/PID/maps, such as "[heap]"; null takes the mappable's name. */
    public name: string | null,
  ) {}

  /** Returns the offset into the mapped object of the address `addr`. */
  offsetOf(addr: number): number {
    return this.offset + (addr - this.start);
  }

  /** Reports whether this VMA is private anonymous memory (no object behind it). */
  get anonymous(): boolean {
    return this.mappable === null;
  }

  /**
   * Returns a copy of this VMA over [start, end), which must lie inside it.
   * The copy counts as a new mapping of the object.
   */
  slice(start: number, end: number): Vma {
    const copy = new Vma(
      start,
      end,
      this.prot,
      this.maxProt,
      this.shared,
      this.growsDown,
      this.mappable,
      this.mappable === null ? 0 : this.offsetOf(start),
      this.name,
    );
    copy.dontFork = this.dontFork;
    copy.wipeOnFork = this.wipeOnFork;
    copy.mappable?.addMapping?.();
    return copy;
  }

  /** Reports whether `next`, which starts where this VMA ends, can be merged into it. */
  canMerge(next: Vma): boolean {
    return (
      this.end === next.start &&
      this.prot === next.prot &&
      this.maxProt === next.maxProt &&
      this.shared === next.shared &&
      this.growsDown === next.growsDown &&
      this.mappable === next.mappable &&
      this.name === next.name &&
      this.dontFork === next.dontFork &&
      this.wipeOnFork === next.wipeOnFork &&
      (this.mappable === null || this.offsetOf(this.end) === next.offset)
    );
  }

  /** Returns the public description of this VMA. */
  info(): VmaInfo {
    return {
      start: this.start,
      end: this.end,
      prot: this.prot,
      shared: this.shared,
      offset: this.offset,
      name: this.name ?? this.mappable?.name ?? "",
      growsDown: this.growsDown,
      mappable: this.mappable ?? undefined,
    };
  }
}
