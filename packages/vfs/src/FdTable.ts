import { Errno, SyscallError } from "@sandbox/abi";
import { AT_FDCWD, CLOSE_RANGE_CLOEXEC, CLOSE_RANGE_UNSHARE, FD_CLOEXEC, O_CLOEXEC } from "./constants";
import type { FileDescription } from "./FileDescription";

interface FdEntry {
  file: FileDescription;
  closeOnExec: boolean;
}

/** The default RLIMIT_NOFILE soft limit of Linux (INR_OPEN_CUR). */
export const DEFAULT_NOFILE_LIMIT = 1024;

/** The largest descriptor count a table accepts (Linux's default fs.nr_open). */
export const NR_OPEN = 1024 * 1024;

/**
 * A task's file descriptor table: descriptor numbers mapped to open file
 * descriptions, each with its close-on-exec flag.
 *
 * The table holds one reference on each description per descriptor. New
 * descriptors get the lowest free number, and numbers at or above the
 * RLIMIT_NOFILE limit are never allocated (EMFILE), as on Linux.
 */
export class FdTable {
  private readonly entries: (FdEntry | undefined)[] = [];
  /** No descriptor below this number is free. */
  private lowestFreeHint = 0;
  private nofileLimit: number;

  constructor(limit: number = DEFAULT_NOFILE_LIMIT) {
    this.nofileLimit = FdTable.checkLimit(limit);
  }

  /** The RLIMIT_NOFILE soft limit: descriptors are below it. */
  get limit(): number {
    return this.nofileLimit;
  }

  /** Changes the RLIMIT_NOFILE limit. Descriptors already above it stay open, as on Linux. */
  setLimit(limit: number): void {
    this.nofileLimit = FdTable.checkLimit(limit);
  }

  /** Returns the description of `fd`. Throws EBADF if it is not open. */
  get(fd: number): FileDescription {
    return this.entry(fd).file;
  }

  /** Returns the description of `fd`, or undefined if it is not open. */
  lookup(fd: number): FileDescription | undefined {
    return Number.isInteger(fd) && fd >= 0 ? this.entries[fd]?.file : undefined;
  }

  /**
   * Returns the description where the path of an *at call starts: undefined
   * (the working directory) for AT_FDCWD or an absolute path, else the
   * description of `dirfd`, or EBADF if it is not open. The path walk checks
   * that it is a directory.
   */
  startDirectory(dirfd: number, path: string): FileDescription | undefined {
    if (dirfd === AT_FDCWD || path.startsWith("/")) {
      return undefined;
    }
    return this.get(dirfd);
  }

  /** Returns the descriptor flags of `fd` (F_GETFD): FD_CLOEXEC or 0. */
  getFlags(fd: number): number {
    return this.entry(fd).closeOnExec ? FD_CLOEXEC : 0;
  }

  /** Sets the descriptor flags of `fd` (F_SETFD). Only FD_CLOEXEC has a meaning. */
  setFlags(fd: number, flags: number): void {
    this.entry(fd).closeOnExec = (flags & FD_CLOEXEC) !== 0;
  }

  /**
   * Installs `file` at the lowest free descriptor at or above `minFd` and
   * returns it. The table takes over the caller's reference, also when it
   * throws: EMFILE if no descriptor below the limit is free, EINVAL if
   * `minFd` is at or above the limit (as F_DUPFD does).
   */
  install(file: FileDescription, options: { closeOnExec?: boolean; minFd?: number } = {}): number {
    const minFd = options.minFd ?? 0;
    if (!Number.isInteger(minFd) || minFd < 0 || minFd >= this.nofileLimit) {
      file.decRef();
      throw new SyscallError(Errno.EINVAL, `minimum descriptor ${minFd} is outside [0, ${this.nofileLimit})`);
    }

    let fd = Math.max(minFd, this.lowestFreeHint);
    while (fd < this.entries.length && this.entries[fd] !== undefined) {
      fd++;
    }
    if (fd >= this.nofileLimit) {
      file.decRef();
      throw new SyscallError(Errno.EMFILE);
    }
    if (minFd <= this.lowestFreeHint) {
      this.lowestFreeHint = fd + 1;
    }
    this.entries[fd] = { file, closeOnExec: options.closeOnExec ?? false };
    return fd;
  }

  /**
   * Installs `file` at exactly `fd`, closing what was there (dup2 without its
   * checks). Takes over the caller's reference, also when it throws EBADF
   * for a descriptor outside [0, limit).
   */
  installAt(fd: number, file: FileDescription, closeOnExec = false): void {
    if (!Number.isInteger(fd) || fd < 0 || fd >= this.nofileLimit) {
      file.decRef();
      throw new SyscallError(Errno.EBADF, `descriptor ${fd} is outside [0, ${this.nofileLimit})`);
    }
    const old = this.entries[fd];
    this.entries[fd] = { file, closeOnExec };
    old?.file.decRef();
  }

  /** Implements close(2). */
  close(fd: number): void {
    const old = this.entry(fd);
    this.entries[fd] = undefined;
    if (fd < this.lowestFreeHint) {
      this.lowestFreeHint = fd;
    }
    this.trimTail();
    old.file.decRef();
  }

  /** Implements dup(2): the new descriptor has close-on-exec cleared. */
  dup(oldFd: number): number {
    const file = this.get(oldFd);
    file.incRef();
    return this.install(file);
  }

  /** Implements fcntl(F_DUPFD) and fcntl(F_DUPFD_CLOEXEC). */
  dupMin(oldFd: number, minFd: number, closeOnExec: boolean): number {
    const file = this.get(oldFd);
    file.incRef();
    return this.install(file, { minFd, closeOnExec });
  }

  /** Implements dup2(2): equal descriptors only check that `oldFd` is open. */
  dup2(oldFd: number, newFd: number): number {
    const file = this.get(oldFd);
    if (oldFd === newFd) {
      return newFd;
    }
    file.incRef();
    this.installAt(newFd, file);
    return newFd;
  }

  /** Implements dup3(2): EINVAL for equal descriptors or flags other than O_CLOEXEC. */
  dup3(oldFd: number, newFd: number, flags: number): number {
    if ((flags & ~O_CLOEXEC) !== 0) {
      throw new SyscallError(Errno.EINVAL, `unknown dup3 flags 0x${flags.toString(16)}`);
    }
    if (oldFd === newFd) {
      throw new SyscallError(Errno.EINVAL, "dup3 with equal descriptors");
    }
    const file = this.get(oldFd);
    file.incRef();
    this.installAt(newFd, file, (flags & O_CLOEXEC) !== 0);
    return newFd;
  }

  /**
   * Implements close_range(2) for [first, last]: closes the descriptors, or
   * with CLOSE_RANGE_CLOEXEC marks them close-on-exec.
   */
  closeRange(first: number, last: number, flags: number): void {
    if ((flags & ~(CLOSE_RANGE_CLOEXEC | CLOSE_RANGE_UNSHARE)) !== 0 || first > last) {
      throw new SyscallError(Errno.EINVAL);
    }
    const end = Math.min(last, this.entries.length - 1);
    for (let fd = first; fd <= end; fd++) {
      const entry = this.entries[fd];
      if (entry === undefined) {
        continue;
      }
      if ((flags & CLOSE_RANGE_CLOEXEC) !== 0) {
        entry.closeOnExec = true;
      } else {
        this.close(fd);
      }
    }
  }

  /** Returns a copy for a forked task: the same descriptions, one more reference each. */
  fork(): FdTable {
    const copy = new FdTable(this.nofileLimit);
    this.entries.forEach((entry, fd) => {
      if (entry !== undefined) {
        entry.file.incRef();
        copy.entries[fd] = { file: entry.file, closeOnExec: entry.closeOnExec };
      }
    });
    copy.lowestFreeHint = this.lowestFreeHint;
    return copy;
  }

  /** Closes every descriptor marked close-on-exec, as execve does. */
  closeOnExec(): void {
    this.entries.forEach((entry, fd) => {
      if (entry?.closeOnExec) {
        this.close(fd);
      }
    });
  }

  /** Closes every descriptor, as an exiting task does. */
  closeAll(): void {
    this.entries.forEach((entry, fd) => {
      if (entry !== undefined) {
        this.close(fd);
      }
    });
  }

  /** Returns the open descriptors in increasing order. */
  fds(): number[] {
    const result: number[] = [];
    this.entries.forEach((entry, fd) => {
      if (entry !== undefined) {
        result.push(fd);
      }
    });
    return result;
  }

  private entry(fd: number): FdEntry {
    const entry = Number.isInteger(fd) && fd >= 0 ? this.entries[fd] : undefined;
    if (entry === undefined) {
      throw new SyscallError(Errno.EBADF);
    }
    return entry;
  }

  private trimTail(): void {
    while (this.entries.length > 0 && this.entries[this.entries.length - 1] === undefined) {
      this.entries.pop();
    }
  }

  private static checkLimit(limit: number): number {
    if (!Number.isInteger(limit) || limit < 0 || limit > NR_OPEN) {
      throw new RangeError(`invalid RLIMIT_NOFILE ${limit}: expected an integer in [0, ${NR_OPEN}]`);
    }
    return limit;
  }
}
