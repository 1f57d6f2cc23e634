import type { AddressSpace } from "@sandbox/platform";
import { PROT_WRITE } from "./flags";
import type { PageAllocator } from "./page-allocator";

/**
 * A pma ("physical memory area"): addresses [start, end) installed in the
 * host address space as a MAP_SHARED mapping of the memory file at `offset`.
 * Every pma holds one allocator reference on each of its pages.
 */
export class Pma {
  constructor(
    /** First address, page-aligned. */
    public start: number,
    /** One past the last address, page-aligned. */
    public end: number,
    /** Memory-file offset that backs `start`. */
    public offset: number,
    /** Protection installed in the address space. */
    public prot: number,
    /** The pages belong to a MAP_PRIVATE VMA, so a write must never reach a page that another mapping can read. */
    public isPrivate: boolean,
    /** The pages may be shared with others, so a write fault must copy them first (write is not installed). */
    public needCOW: boolean,
  ) {}

  /** Returns the memory-file offset of the address `addr`. */
  offsetOf(addr: number): number {
    return this.offset + (addr - this.start);
  }
}

/**
 * The pmas of one address space: exactly what is installed in the platform's
 * AddressSpace, sorted and disjoint. Every change here is mirrored to the
 * address space at once, so the platform hears only about what changed, and
 * every installed page is accounted in the PageAllocator.
 */
export class PmaSet {
  private readonly list: Pma[] = [];

  constructor(
    private readonly addressSpace: AddressSpace,
    private readonly allocator: PageAllocator,
  ) {}

  /** Number of pmas. */
  get size(): number {
    return this.list.length;
  }

  /** The pmas in address order; the array must not be changed by the caller. */
  get all(): readonly Pma[] {
    return this.list;
  }

  /** Returns the index of the first pma that ends above `addr`. */
  indexAfter(addr: number): number {
    const list = this.list;
    let low = 0;
    let high = list.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (list[middle].end <= addr) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    return low;
  }

  /** Returns the pma that contains `addr`, if any. */
  find(addr: number): Pma | undefined {
    const pma = this.list[this.indexAfter(addr)];
    return pma !== undefined && pma.start <= addr ? pma : undefined;
  }

  /** Returns the ranges inside [start, end) that no pma covers, as [start, end) pairs. */
  holes(start: number, end: number): number[] {
    const holes: number[] = [];
    let cursor = start;
    for (let i = this.indexAfter(start); i < this.list.length && this.list[i].start < end; i++) {
      const pma = this.list[i];
      if (pma.start > cursor) {
        holes.push(cursor, pma.start);
      }
      cursor = pma.end;
    }
    if (cursor < end) {
      holes.push(cursor, end);
    }
    return holes;
  }

  /** Returns the pmas inside [start, end), after splitting the ones that cross its edges. */
  slice(start: number, end: number): Pma[] {
    this.splitAt(start);
    this.splitAt(end);
    const result: Pma[] = [];
    for (let i = this.indexAfter(start); i < this.list.length && this.list[i].start < end; i++) {
      result.push(this.list[i]);
    }
    return result;
  }

  /**
   * Installs [start, end) at memory-file `offset` with `prot`, which must be
   * free of pmas. The pma takes over one reference per page from the caller.
   */
  install(start: number, end: number, offset: number, prot: number, isPrivate: boolean, needCOW: boolean): void {
    const index = this.indexAfter(start);
    const next = this.list[index];
    if (next !== undefined && next.start < end) {
      throw new Error(`pma [${start}, ${end}) overlaps [${next.start}, ${next.end})`);
    }
    const installed = needCOW ? prot & ~PROT_WRITE : prot;
    this.addressSpace.mapFile(start, end - start, offset, installed);
    this.list.splice(index, 0, new Pma(start, end, offset, installed, isPrivate, needCOW));
    this.mergeAround(start, end);
  }

  /**
   * Points `pma` at `offset` instead, with write allowed and no copy-on-write;
   * used after its pages were copied. The reference on the old pages is dropped.
   */
  replace(pma: Pma, offset: number, prot: number): void {
    const oldOffset = pma.offset;
    this.addressSpace.mapFile(pma.start, pma.end - pma.start, offset, prot);
    pma.offset = offset;
    pma.prot = prot;
    pma.needCOW = false;
    this.allocator.decRef(oldOffset, pma.end - pma.start);
  }

  /** Maps `pma` into the address space again, for a host mapping that went stale. */
  reinstall(pma: Pma): void {
    this.addressSpace.mapFile(pma.start, pma.end - pma.start, pma.offset, pma.prot);
  }

  /** Removes every pma inside [start, end): unmaps them and drops their page references. */
  remove(start: number, end: number): void {
    const removed = this.take(start, end);
    this.unmapRuns(removed);
    for (const pma of removed) {
      this.allocator.decRef(pma.offset, pma.end - pma.start);
    }
  }

  /** Drops every page reference, and unmaps everything unless `unmap` is false (the address space goes away). */
  clear(unmap = true): void {
    const removed = this.list.splice(0);
    if (unmap) this.unmapRuns(removed);
    for (const pma of removed) {
      this.allocator.decRef(pma.offset, pma.end - pma.start);
    }
  }

  /**
   * Moves the pmas of [start, end) by `delta` bytes: installs them at the new
   * addresses, which must be free of pmas, and unmaps the old ones. The
   * references move with them, so no page is copied.
   */
  move(start: number, end: number, delta: number): void {
    const moved = this.take(start, end);
    this.unmapRuns(moved);
    for (const pma of moved) {
      this.install(pma.start + delta, pma.end + delta, pma.offset, pma.prot, pma.isPrivate, pma.needCOW);
    }
  }

  /**
   * Sets the installed protection of the pmas inside [start, end) to `prot`,
   * less PROT_WRITE where copy-on-write is pending, and calls the address
   * space's protect() once per run of pmas whose protection changed. Then
   * merges neighbouring pmas, unless `merge` is false: a caller that still
   * walks a slice of the set must keep its pmas as they are.
   */
  protect(start: number, end: number, prot: number, merge = true): void {
    let runStart = -1;
    let runEnd = -1;
    let runProt = -1;
    for (const pma of this.slice(start, end)) {
      const installed = pma.needCOW ? prot & ~PROT_WRITE : prot;
      if (installed === pma.prot) {
        continue;
      }
      pma.prot = installed;
      if (runStart >= 0 && runEnd === pma.start && runProt === installed) {
        runEnd = pma.end;
        continue;
      }
      if (runStart >= 0) {
        this.addressSpace.protect(runStart, runEnd - runStart, runProt);
      }
      runStart = pma.start;
      runEnd = pma.end;
      runProt = installed;
    }
    if (runStart >= 0) {
      this.addressSpace.protect(runStart, runEnd - runStart, runProt);
    }
    if (merge) this.mergeAround(start, end);
  }

  /**
   * Marks the private pmas inside [start, end) copy-on-write and removes
   * PROT_WRITE from them in the address space, for fork().
   */
  markCopyOnWrite(start: number, end: number): void {
    for (const pma of this.slice(start, end)) {
      if (!pma.isPrivate || pma.needCOW) {
        continue;
      }
      pma.needCOW = true;
      if ((pma.prot & PROT_WRITE) !== 0) {
        pma.prot &= ~PROT_WRITE;
        this.addressSpace.protect(pma.start, pma.end - pma.start, pma.prot);
      }
    }
    this.mergeAround(start, end);
  }

  /** Merges neighbouring pmas around [start, end) that continue each other in the file with equal state. */
  mergeAround(start: number, end: number): void {
    const list = this.list;
    let index = Math.max(0, this.indexAfter(start) - 1);
    while (index + 1 < list.length && list[index].start <= end) {
      const pma = list[index];
      const next = list[index + 1];
      if (
        pma.end === next.start &&
        pma.offsetOf(pma.end) === next.offset &&
        pma.prot === next.prot &&
        pma.isPrivate === next.isPrivate &&
        pma.needCOW === next.needCOW
      ) {
        pma.end = next.end;
        list.splice(index + 1, 1);
      } else {
        index++;
      }
    }
  }

  /** Splits the pma that strictly contains `addr` into two. */
  private splitAt(addr: number): void {
    const index = this.indexAfter(addr);
    const pma = this.list[index];
    if (pma === undefined || pma.start >= addr) {
      return;
    }
    const upper = new Pma(addr, pma.end, pma.offsetOf(addr), pma.prot, pma.isPrivate, pma.needCOW);
    pma.end = addr;
    this.list.splice(index + 1, 0, upper);
  }

  /** Removes the pmas inside [start, end) from the list, keeping their references, and returns them. */
  private take(start: number, end: number): Pma[] {
    this.splitAt(start);
    this.splitAt(end);
    const first = this.indexAfter(start);
    let last = first;
    while (last < this.list.length && this.list[last].start < end) {
      last++;
    }
    return this.list.splice(first, last - first);
  }

  /** Unmaps `pmas` (sorted) from the address space, one call per run of adjacent pmas. */
  private unmapRuns(pmas: readonly Pma[]): void {
    let runStart = -1;
    let runEnd = -1;
    for (const pma of pmas) {
      if (runStart >= 0 && runEnd === pma.start) {
        runEnd = pma.end;
        continue;
      }
      if (runStart >= 0) {
        this.addressSpace.unmap(runStart, runEnd - runStart);
      }
      runStart = pma.start;
      runEnd = pma.end;
    }
    if (runStart >= 0) {
      this.addressSpace.unmap(runStart, runEnd - runStart);
    }
  }
}
