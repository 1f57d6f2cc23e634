// Scheduling priority of the helper threads of the process that runs the
// Sentry. Only this file and confine.native.ts of the package use koffi.
import { readdirSync } from "node:fs";
import koffi from "koffi";

const libc = koffi.load("libc.so.6");
const setpriority = libc.func("int setpriority(int which, unsigned int who, int prio)");

const PRIO_PROCESS = 0;
/** The lowest priority a thread can have without a real-time or idle policy. */
export const LOWEST_NICE = 19;

/**
 * Gives every thread of this process except the main one the nice value
 * `nice` (Linux applies setpriority to a single thread when given its id).
 * Returns how many threads were changed.
 *
 * Meant for the moment runsc has loaded and before the sandbox starts:
 * then the other threads are V8's helpers (its optimizing compiler and
 * garbage collector). Those compete with the Sentry's thread and the stub
 * threads for the CPU, and on a machine with few CPUs a helper that runs
 * its whole time slice stalls a round trip between them by milliseconds.
 * Threads started later, such as libuv's pool, keep their priority.
 */
export function lowerHelperThreadPriority(nice = LOWEST_NICE): number {
  let changed = 0;
  for (const name of readdirSync("/proc/self/task")) {
    const tid = Number(name);
    if (tid === process.pid || !Number.isInteger(tid)) continue;
    if ((setpriority(PRIO_PROCESS, tid, nice) as number) === 0) changed++;
  }
  return changed;
}
