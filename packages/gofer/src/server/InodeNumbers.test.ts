import { describe, expect, it } from "vitest";
import { FOREIGN_INO_BASE, InodeNumbers } from "./InodeNumbers";

describe("InodeNumbers", () => {
  it("keeps root device numbers and numbers others apart", () => {
    const numbers = new InodeNumbers(10n);
    expect(numbers.inoOf(10n, 1234n)).toBe(1234);
    expect(numbers.inoOf(11n, 1234n)).toBe(FOREIGN_INO_BASE);
    expect(numbers.inoOf(12n, 1234n)).toBe(FOREIGN_INO_BASE + 1);
    expect(numbers.inoOf(11n, 1234n)).toBe(FOREIGN_INO_BASE);
    expect(numbers.inoOf(11n, 5n)).toBe(FOREIGN_INO_BASE + 2);
  });
});
