import type { Range } from "./address";
import { PAGE_SIZE } from "./flags";
import type { Vma } from "./vma";

/**
 * Bytes kept free below a grows-down VMA, as Linux's default stack_guard_gap
 * (256 pages): new mappings are not placed there, and a stack does not grow
 * to within this distance of the mapping below it.
 */
export const STACK_GUARD_GAP = 256 * PAGE_SIZE;

/**
 * The VMAs of one address space, sorted by address and disjoint, in a plain
 * array searched by binary search. Inserting or removing shifts the array,
 * which stays cheap for the few thousand VMAs a process has.
 */
export class VmaSet {
  private readonly list: Vma[] = [];

  /** Number of VMAs. */
  get size(): number {
    return this.list.length;
  }

  /** The VMAs in address order; the array must not be changed by the caller. */
  get all(): readonly Vma[] {
    return this.list;
  }

  /** Returns the index of the first VMA that ends above `addr` (the length when there is none). */
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

  /** Returns the VMA that contains `addr`, if any. */
  find(addr: number): Vma | undefined {
    const vma = this.list[this.indexAfter(addr)];
    return vma !== undefined && vma.start <= addr ? vma : undefined;
  }

  /** Returns the VMAs that overlap [start, end), in order, without splitting them. */
  overlapping(start: number, end: number): Vma[] {
    const result: Vma[] = [];
    for (let i = this.indexAfter(start); i < this.list.length && this.list[i].start < end; i++) {
      result.push(this.list[i]);
    }
    return result;
  }

  /** Reports whether no VMA overlaps [start, end). */
  isFree(start: number, end: number): boolean {
    const vma = this.list[this.indexAfter(start)];
    return vma === undefined || vma.start >= end;
  }

  /**
   * Reports whether [start, end) is free and also outside the guard gap
   * below a grows-down VMA, the test Linux applies to an mmap hint.
   */
  isFreeWithGuard(start: number, end: number): boolean {
    const vma = this.list[this.indexAfter(start)];
    return vma === undefined || startGap(vma) >= end;
  }

  /** Splits the VMA that strictly contains `addr` into two at `addr`. */
  splitAt(addr: number): void {
    const index = this.indexAfter(addr);
    const vma = this.list[index];
    if (vma === undefined || vma.start >= addr) {
      return;
    }
    const upper = vma.slice(addr, vma.end);
    vma.end = addr;
    this.list.splice(index + 1, 0, upper);
  }

  /**
   * Removes every VMA inside [start, end), splitting the ones that cross its
   * edges, and returns the removed pieces. The caller drops their mappings.
   */
  remove(start: number, end: number): Vma[] {
    this.splitAt(start);
    this.splitAt(end);
    const first = this.indexAfter(start);
    let last = first;
    while (last < this.list.length && this.list[last].start < end) {
      last++;
    }
    return this.list.splice(first, last - first);
  }

  /** Inserts `vma`, whose range must be free. */
  insert(vma: Vma): void {
    const index = this.indexAfter(vma.start);
    const next = this.list[index];
    if (next !== undefined && next.start < vma.end) {
      throw new Error(`VMA [${vma.start}, ${vma.end}) overlaps [${next.start}, ${next.end})`);
    }
    this.list.splice(index, 0, vma);
  }

  /**
   * Merges compatible neighbours among the VMAs that touch [start, end),
   * including the VMA just before `start` and just after `end`.
   */
  mergeAround(start: number, end: number): void {
    const list = this.list;
    let index = Math.max(0, this.indexAfter(start) - 1);
    while (index + 1 < list.length && list[index].start <= end) {
      const vma = list[index];
      const next = list[index + 1];
      if (vma.canMerge(next)) {
        vma.end = next.end;
        list.splice(index + 1, 1);
        next.mappable?.removeMapping?.();
      } else {
        index++;
      }
    }
  }

  /**
   * Finds the highest free range of `length` bytes inside [low, high) that
   * avoids `reserved` and the guard gaps below grows-down VMAs, as Linux's
   * top-down mmap placement does. Returns its start, or -1 when none fits.
   *
   * NOTE: the walk visits every VMA between `high` and the free range found,
   * so a process with n VMAs below the mmap base pays O(n) per placement,
   * where Linux keeps the largest gap of each subtree and pays O(log n).
   */
  findGapTopDown(length: number, low: number, high: number, reserved: readonly Range[]): number {
    const list = this.list;
    let index = this.indexAfter(high) - 1;
    // The VMA after `index` may start below `high`, or keep a guard gap that reaches below it.
    let upper = high;
    if (index + 1 < list.length) {
      upper = Math.min(upper, startGap(list[index + 1]));
    }
    for (;;) {
      const lower = index >= 0 ? Math.max(list[index].end, low) : low;
      if (upper - lower >= length) {
        const found = fitTopDown(lower, upper, length, reserved);
        if (found >= 0) {
          return found;
        }
      }
      if (index < 0) {
        return -1;
      }
      upper = Math.min(upper, startGap(list[index]));
      if (upper <= low) {
        return -1;
      }
      index--;
    }
  }
}

/** Returns the highest address at which a new mapping below `vma` may end. */
function startGap(vma: Vma): number {
  return vma.growsDown ? Math.max(0, vma.start - STACK_GUARD_GAP) : vma.start;
}

/**
 * Returns the highest start of a range of `length` bytes inside [low, high)
 * that overlaps none of `reserved` (sorted by address), or -1.
 */
function fitTopDown(low: number, high: number, length: number, reserved: readonly Range[]): number {
  let top = high;
  for (let i = reserved.length - 1; i >= 0; i--) {
    const range = reserved[i];
    if (range.start >= top) {
      continue;
    }
    if (range.end <= low) {
      break;
    }
    if (top - Math.max(range.end, low) >= length) {
      return top - length;
    }
    top = range.start;
  }
  return top - low >= length ? top - length : -1;
}
