import { type Range, alignDown, isPageAligned, isUnsignedInteger, overlapsAny, pageAlignDown, pageAlignUp } from "./address";
import { PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE } from "./flags";
import type { Mappable } from "./mappable";
import type { MemoryFile } from "./memory-file";
import type { PageAllocator } from "./page-allocator";
import type { PmaSet } from "./pma-set";
import type { Vma } from "./vma";
import { STACK_GUARD_GAP, type VmaSet } from "./vma-set";

/** The outcome of a fault inside mm: Ok (0) when it was served, else the kind of signal. */
export enum FaultCode {
  Ok = 0,
  MapError = 1,
  AccessError = 2,
  BusError = 3,
}

/**
 * Bytes around a faulting address that one fault fills when no data is
 * copied: fresh anonymous pages, which cost no host memory until touched,
 * and an object's own pages (shared, or private until written), which its
 * cache contains anyway once read.
 */
const MAP_AROUND = 2 << 20;
/** Bytes around a faulting address that one fault copies: file data and copy-on-write breaks. */
const COPY_AROUND = 64 << 10;
/** The limits a FaultHandler reads at each fault, since the owner may change them. */
export interface FaultLimits {
  /** Largest size in bytes a grows-down VMA reaches by faults (RLIMIT_STACK). */
  readonly stackLimit: number;
}

/**
 * Serves demand faults of one address space: installs fresh zeroed pages,
 * a file's own pages or private copies of a file's bytes, breaks
 * copy-on-write and grows stacks. Each fault fills a region around the
 * faulting page, clipped to its VMA, so a large mapping needs few faults.
 */
export class FaultHandler {
  private readonly scratch = new Uint8Array(COPY_AROUND);

  constructor(
    private readonly vmaSet: VmaSet,
    private readonly pmaSet: PmaSet,
    private readonly allocator: PageAllocator,
    private readonly memoryFile: MemoryFile,
    private readonly userStart: number,
    private readonly reserved: readonly Range[],
    private readonly limits: FaultLimits,
  ) {}

  /** Makes the page at `addr` accessible for `access`, installing a region around it. */
  fault(addr: number, access: number): FaultCode {
    let vma = this.vmaSet.find(addr);
    if (vma === undefined) {
      vma = this.growStack(addr);
      if (vma === undefined) {
        return FaultCode.MapError;
      }
    }
    if ((access & ~effectiveProt(vma.prot)) !== 0) {
      return FaultCode.AccessError;
    }

    const page = pageAlignDown(addr);
    const write = (access & PROT_WRITE) !== 0;
    const pma = this.pmaSet.find(page);
    if (pma !== undefined) {
      if (write && pma.needCOW) {
        this.breakCopyOnWrite(vma, page);
      }
      return FaultCode.Ok;
    }

    if (vma.mappable === null) {
      const [start, end] = aroundIn(vma, page, MAP_AROUND);
      const holes = this.pmaSet.holes(start, end);
      for (let i = 0; i < holes.length; i += 2) {
        const offset = this.allocator.allocate(holes[i + 1] - holes[i]);
        this.pmaSet.install(holes[i], holes[i + 1], offset, vma.prot, true, false);
      }
      return FaultCode.Ok;
    }
    if (vma.shared || (!write && vma.mappable.translate !== undefined)) {
      const [start, end] = aroundIn(vma, page, MAP_AROUND);
      this.mapTranslated(vma, this.pmaSet.holes(start, end), write);
    } else {
      const [start, end] = aroundIn(vma, page, COPY_AROUND);
      this.copyFromFile(vma, this.pmaSet.holes(start, end));
    }
    return this.pmaSet.find(page) === undefined ? FaultCode.BusError : FaultCode.Ok;
  }

  /** Installs the object's own pages in `holes` ([start, end) pairs), stopping at the end of the object. */
  private mapTranslated(vma: Vma, holes: readonly number[], write: boolean): void {
    const mappable = vma.mappable as Mappable;
    const translate = mappable.translate as NonNullable<Mappable["translate"]>;
    const isPrivate = !vma.shared;
    for (let i = 0; i < holes.length; i += 2) {
      const holeStart = holes[i];
      const holeEnd = holes[i + 1];
      const ranges = translate.call(mappable, vma.offsetOf(holeStart), holeEnd - holeStart, write);
      let cursor = holeStart;
      for (const range of ranges) {
        if (
          !isUnsignedInteger(range.memfdOffset) ||
          !isPageAligned(range.memfdOffset) ||
          !isUnsignedInteger(range.length) ||
          !isPageAligned(range.length) ||
          range.length === 0 ||
          cursor + range.length > holeEnd
        ) {
          throw new Error(`Mappable.translate returned an invalid range ${range.memfdOffset}+${range.length}`);
        }
        this.allocator.incRef(range.memfdOffset, range.length);
        this.pmaSet.install(cursor, cursor + range.length, range.memfdOffset, vma.prot, isPrivate, isPrivate);
        cursor += range.length;
      }
      if (cursor < holeEnd) {
        return;
      }
    }
  }

  /** Fills `holes` with private copies of the file's bytes, stopping at the end of the file. */
  private copyFromFile(vma: Vma, holes: readonly number[]): void {
    const mappable = vma.mappable as Mappable;
    for (let i = 0; i < holes.length; i += 2) {
      const holeStart = holes[i];
      const holeEnd = holes[i + 1];
      const buffer = this.scratch.subarray(0, holeEnd - holeStart);
      const read = readFully(mappable, vma.offsetOf(holeStart), buffer);
      if (read === 0) {
        return;
      }
      const size = pageAlignUp(read);
      const offset = this.allocator.allocate(size);
      buffer.fill(0, read);
      this.memoryFile.writeNonZeroPages(offset, buffer.subarray(0, size));
      this.pmaSet.install(holeStart, holeStart + size, offset, vma.prot, true, false);
      if (holeStart + size < holeEnd) {
        return;
      }
    }
  }

  /**
   * Gives the copy-on-write pages around `page` private copies, or takes
   * them over without copying where no one else references them.
   */
  private breakCopyOnWrite(vma: Vma, page: number): void {
    const [start, end] = aroundIn(vma, page, COPY_AROUND);
    for (const pma of this.pmaSet.slice(start, end)) {
      if (!pma.needCOW) {
        continue;
      }
      const length = pma.end - pma.start;
      if (this.allocator.isExclusive(pma.offset, length)) {
        pma.needCOW = false;
        // No merge yet: it would grow the pmas of this slice past the window.
        this.pmaSet.protect(pma.start, pma.end, vma.prot, false);
        continue;
      }
      const offset = this.allocator.allocate(length);
      const buffer = this.scratch.subarray(0, length);
      this.memoryFile.read(pma.offset, buffer);
      this.memoryFile.writeNonZeroPages(offset, buffer);
      this.pmaSet.replace(pma, offset, vma.prot);
    }
    this.pmaSet.mergeAround(start, end);
  }

  /**
   * Extends the grows-down VMA just above `addr` down to it, as a stack
   * grows on a fault below it, and returns that VMA. Returns undefined when
   * there is no such VMA, or when the stack would exceed stackLimit or come
   * within the guard gap of the mapping below.
   */
  private growStack(addr: number): Vma | undefined {
    const index = this.vmaSet.indexAfter(addr);
    const vma = this.vmaSet.all[index];
    if (vma === undefined || !vma.growsDown) {
      return undefined;
    }
    const newStart = pageAlignDown(addr);
    if (newStart < this.userStart || vma.end - newStart > this.limits.stackLimit || overlapsAny(this.reserved, newStart, vma.start)) {
      return undefined;
    }
    const previous = this.vmaSet.all[index - 1];
    if (previous !== undefined && !previous.growsDown && previous.prot !== 0 && newStart - previous.end < STACK_GUARD_GAP) {
      return undefined;
    }
    if (vma.mappable !== null) {
      const offset = vma.offset - (vma.start - newStart);
      if (offset < 0) {
        return undefined;
      }
      vma.offset = offset;
    }
    vma.start = newStart;
    return vma;
  }

  /** Faults in [start, end) for `access`; returns the first failure, or Ok. */
  populate(start: number, end: number, access: number): FaultCode {
    let cursor = start;
    while (cursor < end) {
      let pma = this.pmaSet.find(cursor);
      if (pma === undefined || !allows(pma.prot, access)) {
        const code = this.fault(cursor, access);
        if (code !== FaultCode.Ok) {
          return code;
        }
        pma = this.pmaSet.find(cursor);
        if (pma === undefined) {
          return FaultCode.BusError;
        }
      }
      cursor = pma.end;
    }
    return FaultCode.Ok;
  }
}

/** Returns the accesses x86 page tables allow for `prot`: write and execute imply read. */
export function effectiveProt(prot: number): number {
  return (prot & (PROT_WRITE | PROT_EXEC)) !== 0 ? prot | PROT_READ : prot;
}

/** Reports whether installed protection `prot` allows `access` without a fault. */
export function allows(prot: number, access: number): boolean {
  return (access & ~effectiveProt(prot)) === 0;
}

/** Returns the `size`-aligned window around `page`, clipped to `vma`, as [start, end]. */
function aroundIn(vma: Vma, page: number, size: number): [number, number] {
  const start = alignDown(page, size);
  return [Math.max(start, vma.start), Math.min(start + size, vma.end)];
}

/** Reads from `mappable` at `offset` until `target` is full or the file ends; returns the bytes read. */
function readFully(mappable: Mappable, offset: number, target: Uint8Array): number {
  let done = 0;
  while (done < target.length) {
    const read = mappable.readAt(offset + done, target.subarray(done));
    if (!Number.isSafeInteger(read) || read < 0 || read > target.length - done) {
      throw new Error(`Mappable.readAt returned an invalid count ${read}`);
    }
    if (read === 0) {
      break;
    }
    done += read;
  }
  return done;
}

