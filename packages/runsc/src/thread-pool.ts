// libuv's thread pool, on which the Sentry waits for the host without
// blocking its event loop.
import { runOnThreadPool } from "./threads.native";

/**
 * Sizes libuv's thread pool for the platform `platformName` and starts it,
 * unless this process started it before.
 *
 * ptrace waits for each running application thread on a pool thread, so it
 * gets up to 128: with libuv's default of 4, threads that computed without
 * system calls kept every pool thread busy and starved the others. The other
 * platforms use the pool only to poll host descriptors.
 *
 * libuv starts every pool thread at the first use and aborts the process if
 * the host rejects one. Pool threads count against RLIMIT_NPROC
 * (`processLimit`), so the pool starts here, before the program can use up
 * that limit, and takes at most a quarter of it.
 */
export function startThreadPool(platformName: string, processLimit: number): void {
  const preferred = platformName === "ptrace" ? 128 : 4;
  const size = Math.max(4, Math.min(preferred, Math.floor(processLimit / 4)));

  // libuv reads UV_THREADPOOL_SIZE when the pool starts (Node passes
  // process.env assignments to setenv(3)). The caller's value is for the
  // sandboxed program, so it comes back afterwards.
  const callerValue = process.env.UV_THREADPOOL_SIZE;
  process.env.UV_THREADPOOL_SIZE = String(size);
  try {
    runOnThreadPool();
  } finally {
    if (callerValue === undefined) delete process.env.UV_THREADPOOL_SIZE;
    else process.env.UV_THREADPOOL_SIZE = callerValue;
  }
}
