import { defineStruct, field, type StructLayout } from "./layout";

/** `struct timespec` (16 bytes): seconds and nanoseconds. */
export interface Timespec {
  tv_sec: bigint;
  tv_nsec: bigint;
}

/** `struct timeval` (16 bytes): seconds and microseconds. */
export interface Timeval {
  tv_sec: bigint;
  tv_usec: bigint;
}

/** `struct itimerspec` (32 bytes) of timer_settime(2) and timerfd_settime(2). */
export interface Itimerspec {
  it_interval: Timespec;
  it_value: Timespec;
}

/** `struct itimerval` (32 bytes) of setitimer(2). */
export interface Itimerval {
  it_interval: Timeval;
  it_value: Timeval;
}

/** `struct timezone` (8 bytes) of gettimeofday(2). */
export interface Timezone {
  tz_minuteswest: number;
  tz_dsttime: number;
}

const timespecFields = () => [field.s64("tv_sec"), field.s64("tv_nsec")];
const timevalFields = () => [field.s64("tv_sec"), field.s64("tv_usec")];

/** Layout of `struct timespec` (also `struct __kernel_timespec` on x86-64). */
export const TimespecLayout: StructLayout<Timespec> = defineStruct<Timespec>("timespec", timespecFields());

/** Layout of `struct timeval`. */
export const TimevalLayout: StructLayout<Timeval> = defineStruct<Timeval>("timeval", timevalFields());

/** Layout of `struct itimerspec`. */
export const ItimerspecLayout: StructLayout<Itimerspec> = defineStruct<Itimerspec>("itimerspec", [
  field.struct(timespecFields(), "it_interval"),
  field.struct(timespecFields(), "it_value"),
]);

/** Layout of `struct itimerval`. */
export const ItimervalLayout: StructLayout<Itimerval> = defineStruct<Itimerval>("itimerval", [
  field.struct(timevalFields(), "it_interval"),
  field.struct(timevalFields(), "it_value"),
]);

/** Layout of `struct timezone`. */
export const TimezoneLayout: StructLayout<Timezone> = defineStruct<Timezone>("timezone", [field.s32("tz_minuteswest"), field.s32("tz_dsttime")]);

/** Nanoseconds per second, the exclusive bound of a valid `tv_nsec`. */
export const NSEC_PER_SEC = 1_000_000_000n;

/** Returns whether a timespec is valid as system calls check it: tv_sec >= 0 and 0 <= tv_nsec < 1e9. */
export function isValidTimespec(ts: Timespec): boolean {
  return ts.tv_sec >= 0n && ts.tv_nsec >= 0n && ts.tv_nsec < NSEC_PER_SEC;
}

/** Converts a timespec to nanoseconds. */
export function timespecToNanoseconds(ts: Timespec): bigint {
  return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/** Converts nanoseconds to a timespec; negative values round toward minus infinity, as the kernel's ns_to_timespec64 does. */
export function nanosecondsToTimespec(ns: bigint): Timespec {
  let sec = ns / NSEC_PER_SEC;
  let nsec = ns % NSEC_PER_SEC;
  if (nsec < 0n) {
    sec -= 1n;
    nsec += NSEC_PER_SEC;
  }
  return { tv_sec: sec, tv_nsec: nsec };
}
