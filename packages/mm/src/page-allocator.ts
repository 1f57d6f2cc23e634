import { isPageAligned, isUnsignedInteger } from "./address";
import { PAGE_SIZE } from "./flags";
import type { MemoryFile } from "./memory-file";

/** Options of a PageAllocator. */
export interface PageAllocatorOptions {
  /**
   * Bytes by which the memory file grows when no free extent fits, a multiple
   * of PAGE_SIZE. Growing costs no host memory because the file is sparse.
   * Default 64 MiB.
   */
  readonly growStep?: number;
}

const DEFAULT_GROW_STEP = 64 << 20;

/**
 * Hands out page-aligned ranges of the memory file and counts references to
 * each page, so that copy-on-write and shared file pages can share one page.
 * A page whose count drops to zero is freed: its host memory is returned with
 * a punched hole, so every allocated page reads as zeros.
 *
 * All offsets and lengths are bytes and multiples of PAGE_SIZE. The counts
 * live in one Uint32Array indexed by page number (4 bytes per page of the
 * file's high-water mark), and free extents in two sorted arrays that are
 * coalesced on every free. Allocation is first fit over the free extents,
 * then from the high-water mark.
 */
export class PageAllocator {
  /** The file whose offsets this allocator owns. */
  readonly file: MemoryFile;

  private readonly growStep: number;
  private refs = new Uint32Array(0);
  /** Page number below which every page is either referenced or in a free extent. */
  private top = 0;
  /** Free extents as page numbers: [freeStarts[i], freeEnds[i]), sorted, disjoint and not adjacent. */
  private readonly freeStarts: number[] = [];
  private readonly freeEnds: number[] = [];
  private usedPages = 0;

  constructor(file: MemoryFile, options: PageAllocatorOptions = {}) {
    const growStep = options.growStep ?? DEFAULT_GROW_STEP;
    if (!isUnsignedInteger(growStep) || growStep === 0 || !isPageAligned(growStep)) {
      throw new RangeError(`invalid growStep ${growStep}: expected a positive multiple of ${PAGE_SIZE}`);
    }
    this.file = file;
    this.growStep = growStep;
    this.top = Math.ceil(file.size / PAGE_SIZE);
    this.ensureCapacity(this.top);
    if (this.top > 0) {
      // Whatever the file contains already is discarded, so allocated pages read as zeros.
      file.punchHole(0, file.size);
      this.freeStarts.push(0);
      this.freeEnds.push(this.top);
    }
  }

  /** Bytes of the file in use: pages with at least one reference. */
  get usedBytes(): number {
    return this.usedPages * PAGE_SIZE;
  }

  /** Number of free extents below the high-water mark (a measure of fragmentation). */
  get freeExtentCount(): number {
    return this.freeStarts.length;
  }

  /**
   * Allocates `length` bytes of contiguous, zero-filled pages and returns
   * their file offset. Each page starts with one reference, owned by the caller.
   */
  allocate(length: number): number {
    const pages = this.pagesOf(length);
    if (pages === 0) {
      throw new RangeError("cannot allocate 0 bytes");
    }

    let first = -1;
    for (let i = 0; i < this.freeStarts.length; i++) {
      if (this.freeEnds[i] - this.freeStarts[i] >= pages) {
        first = this.freeStarts[i];
        if (this.freeEnds[i] - first === pages) {
          this.freeStarts.splice(i, 1);
          this.freeEnds.splice(i, 1);
        } else {
          this.freeStarts[i] = first + pages;
        }
        break;
      }
    }

    if (first < 0) {
      first = this.top;
      this.top += pages;
      this.ensureCapacity(this.top);
      const needed = this.top * PAGE_SIZE;
      if (needed > this.file.size) {
        this.file.grow(Math.ceil(needed / this.growStep) * this.growStep);
      }
    }

    this.refs.fill(1, first, first + pages);
    this.usedPages += pages;
    return first * PAGE_SIZE;
  }

  /** Adds one reference to each page of [offset, offset+length); every page must be in use. */
  incRef(offset: number, length: number): void {
    const first = this.pageOf(offset);
    const end = first + this.pagesOf(length);
    this.checkInUse(first, end);
    const refs = this.refs;
    for (let page = first; page < end; page++) {
      refs[page]++;
    }
  }

  /**
   * Drops one reference from each page of [offset, offset+length) and frees
   * the pages that reach zero, punching holes in the file for them.
   */
  decRef(offset: number, length: number): void {
    const first = this.pageOf(offset);
    const end = first + this.pagesOf(length);
    this.checkInUse(first, end);
    const refs = this.refs;
    let runStart = -1;
    for (let page = first; page < end; page++) {
      if (--refs[page] === 0) {
        if (runStart < 0) {
          runStart = page;
        }
      } else if (runStart >= 0) {
        this.release(runStart, page);
        runStart = -1;
      }
    }
    if (runStart >= 0) {
      this.release(runStart, end);
    }
  }

  /** Returns the number of references to the page at `offset` (0 for a free page). */
  refCount(offset: number): number {
    const page = this.pageOf(offset);
    return page < this.top ? this.refs[page] : 0;
  }

  /** Reports whether every page of [offset, offset+length) has exactly one reference. */
  isExclusive(offset: number, length: number): boolean {
    const first = this.pageOf(offset);
    const end = first + this.pagesOf(length);
    if (end > this.top) {
      return false;
    }
    const refs = this.refs;
    for (let page = first; page < end; page++) {
      if (refs[page] !== 1) {
        return false;
      }
    }
    return true;
  }

  private release(first: number, end: number): void {
    this.usedPages -= end - first;
    this.file.punchHole(first * PAGE_SIZE, (end - first) * PAGE_SIZE);
    this.insertFree(first, end);
  }

  private insertFree(first: number, end: number): void {
    const starts = this.freeStarts;
    const ends = this.freeEnds;

    // Index of the first extent that starts after `first`.
    let low = 0;
    let high = starts.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (starts[middle] < first) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }

    const joinsPrevious = low > 0 && ends[low - 1] === first;
    const joinsNext = low < starts.length && starts[low] === end;
    if (joinsPrevious && joinsNext) {
      ends[low - 1] = ends[low];
      starts.splice(low, 1);
      ends.splice(low, 1);
    } else if (joinsPrevious) {
      ends[low - 1] = end;
    } else if (joinsNext) {
      starts[low] = first;
    } else {
      starts.splice(low, 0, first);
      ends.splice(low, 0, end);
    }

    // A free extent that reaches the high-water mark lowers it instead.
    const last = starts.length - 1;
    if (last >= 0 && ends[last] === this.top) {
      this.top = starts[last];
      starts.pop();
      ends.pop();
    }
  }

  private ensureCapacity(pages: number): void {
    if (pages <= this.refs.length) {
      return;
    }
    const grown = new Uint32Array(Math.max(pages, this.refs.length * 2, 1024));
    grown.set(this.refs);
    this.refs = grown;
  }

  private checkInUse(first: number, end: number): void {
    if (end > this.top) {
      throw new RangeError(`pages [${first}, ${end}) are not allocated: the high-water mark is page ${this.top}`);
    }
    const refs = this.refs;
    for (let page = first; page < end; page++) {
      if (refs[page] === 0) {
        throw new RangeError(`page at offset ${page * PAGE_SIZE} is not allocated`);
      }
    }
  }

  private pageOf(offset: number): number {
    if (!isUnsignedInteger(offset) || !isPageAligned(offset)) {
      throw new RangeError(`invalid memory file offset ${offset}: expected a multiple of ${PAGE_SIZE}`);
    }
    return offset / PAGE_SIZE;
  }

  private pagesOf(length: number): number {
    if (!isUnsignedInteger(length) || !isPageAligned(length)) {
      throw new RangeError(`invalid length ${length}: expected a multiple of ${PAGE_SIZE}`);
    }
    return length / PAGE_SIZE;
  }
}
