import { expect, test } from "vitest";
import { probeExpressions } from "../../test/cProbe";
import {
  isValidTimespec, ItimerspecLayout, ItimervalLayout, nanosecondsToTimespec, TimespecLayout, timespecToNanoseconds,
  TimevalLayout, TimezoneLayout,
} from "./time";

test("time struct sizes match headers", () => {
  const values = probeExpressions(["time.h", "sys/time.h"], {
    timespec: "sizeof(struct timespec)",
    timeval: "sizeof(struct timeval)",
    itimerspec: "sizeof(struct itimerspec)",
    itimerval: "sizeof(struct itimerval)",
    timezone: "sizeof(struct timezone)",
    tv_nsec: "offsetof(struct timespec, tv_nsec)",
    it_value: "offsetof(struct itimerspec, it_value)",
  });
  expect(values.get("timespec")).toBe(BigInt(TimespecLayout.size));
  expect(values.get("timeval")).toBe(BigInt(TimevalLayout.size));
  expect(values.get("itimerspec")).toBe(BigInt(ItimerspecLayout.size));
  expect(values.get("itimerval")).toBe(BigInt(ItimervalLayout.size));
  expect(values.get("timezone")).toBe(BigInt(TimezoneLayout.size));
  expect(values.get("tv_nsec")).toBe(8n);
  expect(values.get("it_value")).toBe(16n);
});

test("timespec round-trips", () => {
  const bytes = TimespecLayout.toBytes({ tv_sec: -2n, tv_nsec: 500n });
  expect(new DataView(bytes.buffer).getBigInt64(0, true)).toBe(-2n);
  expect(TimespecLayout.decode(bytes)).toEqual({ tv_sec: -2n, tv_nsec: 500n });
  const nested = { it_interval: { tv_sec: 1n, tv_nsec: 2n }, it_value: { tv_sec: 3n, tv_nsec: 4n } };
  expect(ItimerspecLayout.decode(ItimerspecLayout.toBytes(nested))).toEqual(nested);
  expect(() => TimespecLayout.decode(new Uint8Array(8))).toThrow(RangeError);
});

test("timespec helpers", () => {
  expect(isValidTimespec({ tv_sec: 0n, tv_nsec: 999_999_999n })).toBe(true);
  expect(isValidTimespec({ tv_sec: 0n, tv_nsec: 1_000_000_000n })).toBe(false);
  expect(isValidTimespec({ tv_sec: -1n, tv_nsec: 0n })).toBe(false);
  expect(timespecToNanoseconds({ tv_sec: 2n, tv_nsec: 5n })).toBe(2_000_000_005n);
  expect(nanosecondsToTimespec(2_000_000_005n)).toEqual({ tv_sec: 2n, tv_nsec: 5n });
  expect(nanosecondsToTimespec(-1n)).toEqual({ tv_sec: -1n, tv_nsec: 999_999_999n });
});
