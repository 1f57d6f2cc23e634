import { PAGE_SIZE } from "./flags";

/** A half-open range of addresses or file offsets, [start, end). */
export interface Range {
  readonly start: number;
  readonly end: number;
}

/** Rounds `value` down to a multiple of PAGE_SIZE. */
export function pageAlignDown(value: number): number {
  return value - (value % PAGE_SIZE);
}

/** Rounds `value` up to a multiple of PAGE_SIZE. */
export function pageAlignUp(value: number): number {
  const rest = value % PAGE_SIZE;
  return rest === 0 ? value : value + (PAGE_SIZE - rest);
}

/** Reports whether `value` is a multiple of PAGE_SIZE. */
export function isPageAligned(value: number): boolean {
  return value % PAGE_SIZE === 0;
}

/** Rounds `value` down to a multiple of `alignment`, a power of two up to 2^52. */
export function alignDown(value: number, alignment: number): number {
  return value - (value % alignment);
}

/**
 * Reports whether `value` can be an address, a length or an offset here: a
 * non-negative integer that a double stores exactly (below 2^53).
 */
export function isUnsignedInteger(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/** Reports whether [aStart, aEnd) and [bStart, bEnd) share at least one byte. */
export function overlaps(aStart: number, aEnd: number, bStart: number, bEnd: number): boolean {
  return aStart < bEnd && bStart < aEnd;
}

/** Reports whether [start, end) shares at least one byte with any of `ranges`. */
export function overlapsAny(ranges: readonly Range[], start: number, end: number): boolean {
  for (const range of ranges) {
    if (overlaps(start, end, range.start, range.end)) {
      return true;
    }
  }
  return false;
}
