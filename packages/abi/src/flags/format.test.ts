import { describe, expect, test } from "vitest";
import { formatEnum, formatFlags, formatHex, lookupName, tableOf } from "./format";

const TABLE = [
  ["BOTH", 0x3],
  ["LOW", 0x1],
  ["HIGH", 0x2],
  ["TOP", 0x8000_0000_0000_0000n],
] as const;

describe("formatFlags", () => {
  test("joins names in table order", () => {
    expect(formatFlags(0x1, TABLE)).toBe("LOW");
    expect(formatFlags(0x2, TABLE)).toBe("HIGH");
  });

  test("prefers a multi-bit entry listed first", () => {
    expect(formatFlags(0x3, TABLE)).toBe("BOTH");
  });

  test("appends unknown bits in hex", () => {
    expect(formatFlags(0x15, TABLE)).toBe("LOW|0x14");
  });

  test("handles bit 63 and negative numbers", () => {
    expect(formatFlags(0x8000_0000_0000_0001n, TABLE)).toBe("LOW|TOP");
    expect(formatFlags(-1, [["LOW", 1]])).toBe("LOW|0xfffffffffffffffe");
  });

  test("prints zero as 0 or the given name", () => {
    expect(formatFlags(0, TABLE)).toBe("0");
    expect(formatFlags(0, TABLE, { zero: "NONE" })).toBe("NONE");
  });
});

describe("formatEnum", () => {
  test("names known values", () => {
    expect(formatEnum(2, TABLE, "X_")).toBe("HIGH");
  });

  test("comments unknown values as strace does", () => {
    expect(formatEnum(1234, TABLE, "F_")).toBe("0x4d2 /* F_??? */");
  });
});

test("lookupName compares signed values", () => {
  expect(lookupName(-100, [["AT_FDCWD", -100]])).toBe("AT_FDCWD");
  expect(lookupName(0xffff_ffff_ffff_ff9cn, [["AT_FDCWD", -100]])).toBe("AT_FDCWD");
  expect(lookupName(5, [["AT_FDCWD", -100]])).toBeUndefined();
});

test("formatHex prints unsigned 64-bit", () => {
  expect(formatHex(-1)).toBe("0xffffffffffffffff");
  expect(formatHex(255)).toBe("0xff");
});

test("tableOf keeps the given order", () => {
  expect(tableOf({ A: 1, B: 2 }, ["B", "A"])).toEqual([["B", 2], ["A", 1]]);
});
