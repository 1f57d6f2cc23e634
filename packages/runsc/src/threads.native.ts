// Scheduling policy of the helper threads of the process that runs the
// Sentry, and the start of libuv's thread pool. Only this file and confine.native.ts of the package use koffi.
import { readdirSync } from "node:fs";
import koffi from "koffi";

const libc = koffi.load("libc.so.6");
const schedSetscheduler = libc.func("int sched_setscheduler(int pid, int policy, const int *param)");
const getpid = libc.func("int getpid()");

/** Linux's policy for threads that run only when no other thread wants the CPU. */
export const SCHED_IDLE = 5;

/**
 * Moves every thread of this process except the main one to SCHED_IDLE
 * (Linux applies sched_setscheduler to a single thread when given its id).
 * Returns how many threads were moved.
 *
 * Meant for the moment runsc has loaded and before the sandbox starts:
 * then the other threads are V8's helpers (its optimizing compiler and
 * garbage collector). Those compete with the Sentry's thread and the stub
 * threads for the CPU. At nice 19, a helper that the Sentry's thread woke
 * still took that thread's CPU for up to 5 ms on a machine with two CPUs.
 * An idle-policy thread never preempts another thread on wake-up. Threads
 * started later, such as libuv's pool, keep their policy.
 */
export function idleHelperThreads(): number {
  let changed = 0;
  for (const name of readdirSync("/proc/self/task")) {
    const tid = Number(name);
    if (tid === process.pid || !Number.isInteger(tid)) continue;
    if ((schedSetscheduler(tid, SCHED_IDLE, [0]) as number) === 0) changed++;
  }
  return changed;
}

/**
 * Runs one getpid(2) on libuv's thread pool. The first use of the pool
 * starts all of its threads, from the calling thread, before this returns.
 */
export function runOnThreadPool(): void {
  getpid.async((_error: unknown) => {
    // Only the start of the pool matters.
  });
}
