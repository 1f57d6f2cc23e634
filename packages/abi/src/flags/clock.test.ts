import { expect, test } from "vitest";
import { compareWithHeaders } from "../../test/cProbe";
import { ClockId, formatClockId, TIMER_ABSTIME } from "./clock";

test("clock ids match headers", () => {
  const { mismatches, missing } = compareWithHeaders(["time.h"], { ...ClockId, TIMER_ABSTIME });
  expect(mismatches).toEqual([]);
  expect(missing).toEqual([]);
});

test("clock ids format", () => {
  expect(formatClockId(ClockId.CLOCK_MONOTONIC)).toBe("CLOCK_MONOTONIC");
  expect(formatClockId(0xffff_ffff)).toBe("0xffffffffffffffff /* CLOCK_??? */");
});
