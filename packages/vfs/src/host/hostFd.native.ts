// Host system calls that host descriptors need beyond node:fs, bound through
// koffi: status flags, poll and pipe2. This is the only file of the package
// that touches native code. Every function takes and returns plain numbers
// and typed arrays, and failures come back as -errno.
import koffi from "koffi";

const libc = koffi.load("libc.so.6");

const fcntlNative = libc.func("int fcntl(int fd, int cmd, int arg)");
const pollNative = libc.func("int poll(_Inout_ uint8_t *fds, unsigned long nfds, int timeout)");
const pipe2Native = libc.func("int pipe2(_Out_ int *fds, int flags)");
const lseekNative = libc.func("int64_t lseek(int fd, int64_t offset, int whence)");

/** lseek(2) on host descriptor `fd`: returns the new offset, or -errno. */
export function lseek(fd: number, offset: number, whence: number): number {
  const result = Number(lseekNative(fd, offset, whence));
  return result < 0 ? -koffi.errno() : result;
}

/** F_GETFL from include/uapi/asm-generic/fcntl.h. */
const F_GETFL = 3;
/** F_SETFL from include/uapi/asm-generic/fcntl.h. */
const F_SETFL = 4;

/** Size of struct pollfd: int fd, short events, short revents. */
export const POLLFD_SIZE = 8;
/** Offset of `fd` in struct pollfd. */
export const POLLFD_FD = 0;
/** Offset of `events` in struct pollfd. */
export const POLLFD_EVENTS = 4;
/** Offset of `revents` in struct pollfd. */
export const POLLFD_REVENTS = 6;

/** fcntl(F_GETFL): returns the status flags of `fd`, or -errno. */
export function getStatusFlags(fd: number): number {
  const flags: number = fcntlNative(fd, F_GETFL, 0);
  return flags < 0 ? -koffi.errno() : flags;
}

/** fcntl(F_SETFL): replaces the status flags of `fd`. Returns 0 or -errno. */
export function setStatusFlags(fd: number, flags: number): number {
  const result: number = fcntlNative(fd, F_SETFL, flags);
  return result < 0 ? -koffi.errno() : 0;
}

/**
 * poll(2) on the calling thread over `count` struct pollfd records in
 * `fds`, which gets the revents. Returns the number of ready records or -errno.
 */
export function poll(fds: Uint8Array, count: number, timeoutMs: number): number {
  checkPollBuffer(fds, count);
  const result: number = pollNative(fds, count, timeoutMs);
  return result < 0 ? -koffi.errno() : result;
}

/**
 * poll(2) on a libuv pool thread, so the event loop keeps running while it
 * waits. `fds` must stay untouched until the promise settles. Resolves to the
 * number of ready records or -errno.
 */
export function pollAsync(fds: Uint8Array, count: number, timeoutMs: number): Promise<number> {
  checkPollBuffer(fds, count);
  return new Promise((resolve, reject) => {
    pollNative.async(fds, count, timeoutMs, (error: unknown, result: number) => {
      if (error) {
        reject(error);
        return;
      }
      resolve(result < 0 ? -koffi.errno() : result);
    });
  });
}

/** pipe2(2): returns [read end, write end], or -errno. */
export function pipe2(flags: number): [number, number] | number {
  const fds = new Int32Array(2);
  const result: number = pipe2Native(fds, flags);
  if (result < 0) {
    return -koffi.errno();
  }
  return [fds[0], fds[1]];
}

function checkPollBuffer(fds: Uint8Array, count: number): void {
  if (!Number.isInteger(count) || count < 0 || fds.byteLength < count * POLLFD_SIZE) {
    throw new RangeError(`poll buffer of ${fds.byteLength} bytes is too small for ${count} records`);
  }
}
