import { Errno, SyscallError } from "@sandbox/abi";
import type { FileDescription } from "@sandbox/vfs";
import { ERESTARTSYS, queueSignal } from "./signals";
import type { Task } from "./task";

const POLLIN = 0x1;
const POLLOUT = 0x4;
const POLLERR = 0x8;
const POLLHUP = 0x10;
const SIGPIPE = 13;

/**
 * Waits until `file` may have one of `mask` ready, or the task is
 * interrupted (then fails with ERESTARTSYS so signal delivery decides
 * between a restart and EINTR).
 */
export function waitForFile(task: Task, file: FileDescription, mask: number): Promise<void> {
  const impl = file.impl;
  return new Promise((resolve, reject) => {
    const signal = task.interruptSignal;
    let unwatch: (() => void) | undefined;
    const finish = () => {
      unwatch?.();
      signal.removeEventListener("abort", onAbort);
    };
    const onReady = () => {
      finish();
      resolve();
    };
    const onAbort = () => {
      finish();
      reject(new SyscallError(ERESTARTSYS));
    };
    if (signal.aborted) {
      reject(new SyscallError(ERESTARTSYS));
      return;
    }
    unwatch = impl.watch?.(mask | POLLERR | POLLHUP, onReady);
    signal.addEventListener("abort", onAbort, { once: true });
    if (impl.readiness === undefined || (impl.readiness(mask) & (mask | POLLERR | POLLHUP)) !== 0) onReady();
  });
}

function isAgain(error: unknown): boolean {
  return error instanceof SyscallError && error.errno === Errno.EAGAIN;
}

/** Reads into `buffer` as read(2) does, waiting for data unless the description is non-blocking. */
export async function readBlocking(task: Task, file: FileDescription, read: () => number): Promise<number> {
  for (;;) {
    try {
      return read();
    } catch (error) {
      if (!isAgain(error) || file.nonblocking) throw error;
    }
    await waitForFile(task, file, POLLIN);
  }
}

/**
 * Writes all of `data` as write(2) does on a blocking description: partial
 * writes continue after POLLOUT. A broken pipe raises SIGPIPE and EPIPE.
 * Returns the bytes written; a signal after some bytes returns that count.
 */
export async function writeBlocking(task: Task, file: FileDescription, data: Uint8Array, write: (chunk: Uint8Array) => number): Promise<number> {
  let written = 0;
  for (;;) {
    try {
      written += write(data.subarray(written));
      if (written >= data.length || file.nonblocking) return written;
      continue;
    } catch (error) {
      if (error instanceof SyscallError && error.errno === Errno.EPIPE) {
        queueSignal(task.threadGroup, task, { signo: SIGPIPE, code: 0, pid: task.threadGroup.pid, uid: task.credentials.uid, status: 0, addr: 0, value: 0n });
        if (written > 0) return written;
        throw error;
      }
      if (!isAgain(error) || file.nonblocking) {
        if (written > 0 && isAgain(error)) return written;
        throw error;
      }
    }
    try {
      await waitForFile(task, file, POLLOUT);
    } catch (error) {
      if (written > 0) return written;
      throw error;
    }
  }
}
