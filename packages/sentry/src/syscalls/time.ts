import { Errno, SyscallError } from "@sandbox/abi";
import type { Task } from "../kernel/task";
import { ERESTARTNOHAND } from "../kernel/signals";
import type { SyscallGroup } from "./registry";

const CLOCK_REALTIME = 0;
const CLOCK_MONOTONIC = 1;
const CLOCK_PROCESS_CPUTIME_ID = 2;
const CLOCK_THREAD_CPUTIME_ID = 3;
const CLOCK_MONOTONIC_RAW = 4;
const CLOCK_REALTIME_COARSE = 5;
const CLOCK_MONOTONIC_COARSE = 6;
const CLOCK_BOOTTIME = 7;
const CLOCK_REALTIME_ALARM = 8;
const CLOCK_BOOTTIME_ALARM = 9;
const CLOCK_TAI = 11;
const TIMER_ABSTIME = 1;
const NANOS_PER_SECOND = 1_000_000_000n;

/** Offset that turns process.hrtime into the realtime clock, fixed at load. */
const realtimeOffset = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** Returns the current value of `clock` in nanoseconds, or throws EINVAL for an unknown clock. */
export function clockNow(task: Task, clock: number): bigint {
  switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_REALTIME_ALARM:
    case CLOCK_TAI:
      return process.hrtime.bigint() + realtimeOffset;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
      return process.hrtime.bigint();
    case CLOCK_BOOTTIME:
    case CLOCK_BOOTTIME_ALARM:
      return process.hrtime.bigint() - task.kernel.bootTime;
    case CLOCK_PROCESS_CPUTIME_ID:
    case CLOCK_THREAD_CPUTIME_ID:
      // NOTE: CPU time of the application is approximated by the time since the kernel booted.
      return process.hrtime.bigint() - task.kernel.bootTime;
    default:
      throw new SyscallError(Errno.EINVAL, `unknown clock ${clock}`);
  }
}

function writeTimespec(task: Task, addr: number, nanos: bigint): void {
  const bytes = new DataView(new ArrayBuffer(16));
  bytes.setBigInt64(0, nanos / NANOS_PER_SECOND, true);
  bytes.setBigInt64(8, nanos % NANOS_PER_SECOND, true);
  task.mm.copyOut(addr, new Uint8Array(bytes.buffer));
}

/** Reads a struct timespec and returns it in nanoseconds; EINVAL for an out-of-range field. */
export function readTimespec(task: Task, addr: number): bigint {
  const view = new DataView(task.mm.copyIn(addr, 16).buffer);
  const seconds = view.getBigInt64(0, true);
  const nanos = view.getBigInt64(8, true);
  if (seconds < 0n || nanos < 0n || nanos >= NANOS_PER_SECOND) throw new SyscallError(Errno.EINVAL, "invalid timespec");
  return seconds * NANOS_PER_SECOND + nanos;
}

/** clock_gettime(2). */
function clockGettime(task: Task): number {
  writeTimespec(task, task.numberArg(1), clockNow(task, task.intArg(0)));
  return 0;
}

/** clock_getres(2): every clock ticks in nanoseconds. */
function clockGetres(task: Task): number {
  clockNow(task, task.intArg(0));
  const addr = task.numberArg(1);
  if (addr !== 0) writeTimespec(task, addr, 1n);
  return 0;
}

/** gettimeofday(2); the timezone argument is filled with zeros as on a UTC host. */
function gettimeofday(task: Task): number {
  const now = clockNow(task, CLOCK_REALTIME);
  const tv = task.numberArg(0);
  if (tv !== 0) {
    const bytes = new DataView(new ArrayBuffer(16));
    bytes.setBigInt64(0, now / NANOS_PER_SECOND, true);
    bytes.setBigInt64(8, (now % NANOS_PER_SECOND) / 1000n, true);
    task.mm.copyOut(tv, new Uint8Array(bytes.buffer));
  }
  const tz = task.numberArg(1);
  if (tz !== 0) task.mm.copyOut(tz, new Uint8Array(8));
  return 0;
}

/** time(2). */
function time(task: Task): bigint {
  const seconds = clockNow(task, CLOCK_REALTIME) / NANOS_PER_SECOND;
  const addr = task.numberArg(0);
  if (addr !== 0) {
    const bytes = new DataView(new ArrayBuffer(8));
    bytes.setBigInt64(0, seconds, true);
    task.mm.copyOut(addr, new Uint8Array(bytes.buffer));
  }
  return seconds;
}

/**
 * Sleeps on the event loop for `nanos`, so other tasks keep running. Returns
 * the nanoseconds left when a signal interrupted the sleep, or 0.
 */
function sleepNanos(task: Task, nanos: bigint): Promise<bigint> {
  const signal = task.interruptSignal;
  const end = process.hrtime.bigint() + nanos;
  if (signal.aborted) return Promise.resolve(nanos);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      const left = end - process.hrtime.bigint();
      resolve(left > 0n ? left : 1n);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(0n);
    }, Number(nanos / 1_000_000n));
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** nanosleep(2); an interrupted sleep stores the time left in `rem` and fails with EINTR when a handler runs. */
async function nanosleep(task: Task): Promise<number> {
  const nanos = readTimespec(task, task.numberArg(0));
  const left = await sleepNanos(task, nanos);
  if (left === 0n) return 0;
  const remaining = task.numberArg(1);
  if (remaining !== 0) writeTimespec(task, remaining, left);
  // NOTE: a restarted sleep starts over with the full duration rather than the time left.
  return -ERESTARTNOHAND;
}

/** clock_nanosleep(2), relative or TIMER_ABSTIME. */
async function clockNanosleep(task: Task): Promise<number> {
  const clock = task.intArg(0);
  const flags = task.intArg(1);
  if (clock === CLOCK_THREAD_CPUTIME_ID) throw new SyscallError(Errno.EINVAL);
  const request = readTimespec(task, task.numberArg(2));
  const absolute = (flags & TIMER_ABSTIME) !== 0;
  const nanos = absolute ? request - clockNow(task, clock) : request;
  if (nanos <= 0n) return 0;
  const left = await sleepNanos(task, nanos);
  if (left === 0n) return 0;
  const remaining = task.numberArg(3);
  if (!absolute && remaining !== 0) writeTimespec(task, remaining, left);
  return -ERESTARTNOHAND;
}

/** The clock and timer system calls. */
export const timeSyscalls: SyscallGroup = {
  clock_gettime: clockGettime,
  clock_getres: clockGetres,
  gettimeofday,
  time,
  nanosleep,
  clock_nanosleep: clockNanosleep,
};
