import { fstatSync } from "node:fs";
import { SyscallError } from "@sandbox/abi";
import type { Stat, Timespec } from "@sandbox/vfs";
import { hostErrnoOf } from "../hostErrno";

const BILLION = 1_000_000_000n;

function timespecOf(nanos: bigint): Timespec {
  let sec = nanos / BILLION;
  let nsec = nanos % BILLION;
  if (nsec < 0n) {
    sec -= 1n;
    nsec += BILLION;
  }
  return { sec: Number(sec), nsec: Number(nsec) };
}

/**
 * Runs a synchronous `node:fs` call on a descriptor the gofer sent and
 * rethrows its failure as a SyscallError with the same errno.
 */
export function hostCall<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    const errno = hostErrnoOf(error);
    throw errno === undefined ? error : new SyscallError(errno, (error as Error).message);
  }
}

/**
 * Returns the attributes of the open host file `fd`, with `dev` and `ino`
 * as the sandbox shows them (the gofer's inode number, sent when it opened
 * the file).
 */
export function statOfHostFd(fd: number, dev: number, ino: number): Stat {
  const host = hostCall(() => fstatSync(fd, { bigint: true }));
  return {
    dev,
    ino,
    mode: Number(host.mode),
    nlink: Number(host.nlink),
    uid: Number(host.uid),
    gid: Number(host.gid),
    rdev: Number(host.rdev),
    size: Number(host.size),
    blksize: Number(host.blksize),
    blocks: Number(host.blocks),
    atime: timespecOf(host.atimeNs),
    mtime: timespecOf(host.mtimeNs),
    ctime: timespecOf(host.ctimeNs),
  };
}
