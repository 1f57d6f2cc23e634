import { formatEnum, tableOf } from "./format";

/** Clock ids of clock_gettime(2) and timers (include/uapi/linux/time.h). */
export const ClockId = {
  CLOCK_REALTIME: 0,
  CLOCK_MONOTONIC: 1,
  CLOCK_PROCESS_CPUTIME_ID: 2,
  CLOCK_THREAD_CPUTIME_ID: 3,
  CLOCK_MONOTONIC_RAW: 4,
  CLOCK_REALTIME_COARSE: 5,
  CLOCK_MONOTONIC_COARSE: 6,
  CLOCK_BOOTTIME: 7,
  CLOCK_REALTIME_ALARM: 8,
  CLOCK_BOOTTIME_ALARM: 9,
  CLOCK_TAI: 11,
} as const;

/** The flag of clock_nanosleep(2) and timer_settime(2) that makes the time absolute. */
export const TIMER_ABSTIME = 1;

const CLOCK_TABLE = tableOf(ClockId, Object.keys(ClockId) as (keyof typeof ClockId)[]);

/** Formats a clock id, as in `CLOCK_MONOTONIC`. */
export function formatClockId(clock: number | bigint): string {
  return formatEnum(BigInt.asIntN(32, BigInt(clock)), CLOCK_TABLE, "CLOCK_");
}
