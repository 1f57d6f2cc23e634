import { describe, expect, it } from "vitest";
import { alignDown, isPageAligned, isUnsignedInteger, overlaps, overlapsAny, pageAlignDown, pageAlignUp } from "./address";

describe("address helpers", () => {
  it("aligns to pages", () => {
    expect(pageAlignDown(0x1fff)).toBe(0x1000);
    expect(pageAlignUp(0x1001)).toBe(0x2000);
    expect(pageAlignUp(0x2000)).toBe(0x2000);
    expect(pageAlignUp(0x7ffffffff001)).toBe(0x7ffffffff000 + 0x1000);
    expect(isPageAligned(0x7ffffffff000)).toBe(true);
    expect(isPageAligned(1)).toBe(false);
    expect(alignDown(0x3fffff, 2 << 20)).toBe(0x200000);
  });

  it("accepts only exact non-negative integers", () => {
    expect(isUnsignedInteger(0)).toBe(true);
    expect(isUnsignedInteger(2 ** 53 - 1)).toBe(true);
    expect(isUnsignedInteger(2 ** 53)).toBe(false);
    expect(isUnsignedInteger(-1)).toBe(false);
    expect(isUnsignedInteger(0.5)).toBe(false);
    expect(isUnsignedInteger(Number.NaN)).toBe(false);
  });

  it("tests half-open overlap", () => {
    expect(overlaps(0, 10, 10, 20)).toBe(false);
    expect(overlaps(0, 11, 10, 20)).toBe(true);
    expect(overlapsAny([{ start: 5, end: 6 }, { start: 30, end: 40 }], 6, 30)).toBe(false);
    expect(overlapsAny([{ start: 5, end: 6 }, { start: 30, end: 40 }], 6, 31)).toBe(true);
  });
});
