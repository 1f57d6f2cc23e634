import { S_IFMT } from "./constants";

/** A point in time as Linux stores it: seconds and nanoseconds since the epoch. */
export interface Timespec {
  sec: number;
  nsec: number;
}

/**
 * The fields of Linux `struct stat`. Numbers are exact up to 2^53, so an
 * inode or device number above that loses its low bits.
 */
export interface Stat {
  dev: number;
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  /** Allocated space in 512-byte units. */
  blocks: number;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
}

/**
 * A change of inode attributes, as chmod, chown, truncate and utimensat
 * request it. Absent fields stay unchanged. Times are already resolved, so
 * UTIME_NOW and UTIME_OMIT never reach a file system.
 */
export interface SetAttr {
  /** New permission bits (S_IALLUGO). The file type bits are ignored. */
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atime?: Timespec;
  mtime?: Timespec;
}

/** The owner and group that a new inode gets. */
export interface Owner {
  uid: number;
  gid: number;
}

/**
 * Returns the current wall-clock time. The nanoseconds have microsecond
 * resolution, because that is what `performance.now()` offers.
 */
export function timespecNow(): Timespec {
  const micros = Math.round((performance.timeOrigin + performance.now()) * 1000);
  return { sec: Math.floor(micros / 1e6), nsec: (micros % 1e6) * 1000 };
}

/** Converts a nanosecond count since the epoch to a Timespec. */
export function timespecFromNanos(nanos: bigint): Timespec {
  const billion = 1_000_000_000n;
  let sec = nanos / billion;
  let nsec = nanos % billion;
  if (nsec < 0n) {
    sec -= 1n;
    nsec += billion;
  }
  return { sec: Number(sec), nsec: Number(nsec) };
}

/** Returns the file type bits (S_IFMT) of a mode. */
export function fileType(mode: number): number {
  return mode & S_IFMT;
}
