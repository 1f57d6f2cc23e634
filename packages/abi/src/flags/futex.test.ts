import { expect, test } from "vitest";
import { compareWithHeaders } from "../../test/cProbe";
import { formatFutexOp, Futex2Flags, FutexFlags, FutexOp } from "./futex";

test("futex constants match headers", () => {
  for (const constants of [FutexOp, FutexFlags, Futex2Flags]) {
    const { mismatches, missing } = compareWithHeaders(["linux/futex.h"], constants);
    expect(mismatches).toEqual([]);
    // Linux 6.1 headers predate the futex2 flags.
    expect(Object.keys(Futex2Flags)).toEqual(expect.arrayContaining(missing));
  }
});

test("futex operations format like strace", () => {
  expect(formatFutexOp(FutexOp.FUTEX_WAIT_BITSET | FutexFlags.FUTEX_PRIVATE_FLAG)).toBe("FUTEX_WAIT_BITSET_PRIVATE");
  expect(formatFutexOp(FutexOp.FUTEX_WAIT | 128 | 256)).toBe("FUTEX_WAIT_PRIVATE|FUTEX_CLOCK_REALTIME");
  expect(formatFutexOp(FutexOp.FUTEX_WAKE)).toBe("FUTEX_WAKE");
  expect(formatFutexOp(99)).toBe("0x63 /* FUTEX_??? */");
});
