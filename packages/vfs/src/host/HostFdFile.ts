import { closeSync, fstatSync, ftruncateSync, readSync, writeSync } from "node:fs";
import { Errno, SyscallError } from "@sandbox/abi";
import { S_IFCHR, S_IFIFO, S_IFMT, S_IFREG, S_IFSOCK } from "../constants";
import type { FileDescriptionImpl } from "../FileSystem";
import type { Stat } from "../Stat";
import { ALWAYS_POLLED, DEFAULT_READINESS } from "../WaiterQueue";
import { hostCall } from "./hostErrors";
import { statFromHost } from "./hostStat";
import { lseek, POLLFD_EVENTS, POLLFD_FD, POLLFD_REVENTS, POLLFD_SIZE, poll } from "./hostFd.native";
import { acquireNonblocking, releaseNonblocking } from "./hostNonblocking";
import { HostPoller } from "./HostPoller";

/** Options of a HostFdFile. */
export interface HostFdFileOptions {
  /** Close the host descriptor when the file is released. False by default, as for the Sentry's own stdio. */
  ownsFd?: boolean;
  /** The poller that `watch` uses. By default, one poller shared by every HostFdFile of the process. */
  poller?: HostPoller;
  /**
   * For a regular host file: read and write at the description's own
   * offset with pread and pwrite, as a new open file description of the
   * file does, instead of at the host offset. False by default.
   */
  positional?: boolean;
}

/** The poller of HostFdFiles created without one. It keeps no descriptor open while no watch exists. */
let sharedPoller: HostPoller | undefined;

/**
 * A file backed by a host descriptor that the caller hands in, such as the
 * terminal, pipe or file that the sandbox gets as stdin, stdout and stderr.
 * Reads and writes go to the host descriptor at its own host offset, so
 * this file is a stream here: pread fails with ESPIPE, and so does lseek
 * unless the host file is a regular file, whose host offset lseek moves.
 * fstat reports what the host reports, with the host's device and inode
 * numbers.
 *
 * A host pipe, socket or character device (a terminal) is put in
 * O_NONBLOCK mode for as long as this file exists, and the original mode
 * comes back on `release` (see acquireNonblocking). Its reads and writes
 * never block the event loop: they throw EAGAIN, `readiness` calls poll(2)
 * with a timeout of 0, and `watch` waits in a HostPoller on a libuv
 * pool thread. Other files (regular files, directories) are always ready.
 */
export class HostFdFile implements FileDescriptionImpl {
  /** True for a regular file with the `positional` option. */
  readonly seekable: boolean;
  /** Implements lseek(2) on the host descriptor; present for a regular file only. */
  readonly seek?: (current: number, offset: number, whence: number) => number;
  private readonly pollable: boolean;
  /** Whether the host descriptor is a socket, which Linux does not open again through /proc/self/fd. */
  private readonly socket: boolean;
  private released = false;

  constructor(
    readonly hostFd: number,
    private readonly options: HostFdFileOptions = {},
  ) {
    if (!Number.isInteger(hostFd) || hostFd < 0) {
      throw new RangeError(`invalid host descriptor ${hostFd}: expected a non-negative integer`);
    }
    const type = Number(hostCall(() => fstatSync(hostFd, { bigint: true })).mode) & S_IFMT;
    this.socket = type === S_IFSOCK;
    this.pollable = type === S_IFIFO || type === S_IFSOCK || type === S_IFCHR;
    this.seekable = type === S_IFREG && options.positional === true;
    if (type === S_IFREG && !this.seekable) {
      // The host offset of a file given as stdin (`< file`) moves, and the
      // caller sees it moved after the run, as after a native one.
      this.seek = (_current, offset, whence) => {
        const result = lseek(hostFd, offset, whence);
        if (result < 0) throw new SyscallError(-result, `lseek on host descriptor ${hostFd} failed`);
        return result;
      };
    }
    if (this.pollable) {
      acquireNonblocking(hostFd);
    }
  }

  read(dst: Uint8Array, offset: number): number {
    if (dst.length === 0) {
      return 0;
    }
    return hostCall(() => readSync(this.hostFd, dst, 0, dst.length, this.seekable ? offset : null));
  }

  write(src: Uint8Array, offset: number): number {
    if (src.length === 0) {
      return 0;
    }
    return hostCall(() => writeSync(this.hostFd, src, 0, src.length, this.seekable ? offset : null));
  }

  stat(): Stat {
    const attributes = hostCall(() => fstatSync(this.hostFd, { bigint: true }));
    return statFromHost(attributes, Number(attributes.dev), Number(attributes.ino));
  }

  readiness(mask: number): number {
    if (!this.pollable) {
      return mask & (DEFAULT_READINESS | ALWAYS_POLLED);
    }
    const fds = new Uint8Array(POLLFD_SIZE);
    const view = new DataView(fds.buffer);
    view.setInt32(POLLFD_FD, this.hostFd, true);
    view.setInt16(POLLFD_EVENTS, mask, true);
    const result = poll(fds, 1, 0);
    if (result < 0) {
      throw new SyscallError(-result, `poll of host descriptor ${this.hostFd} failed`);
    }
    return view.getInt16(POLLFD_REVENTS, true) & 0xffff;
  }

  watch(mask: number, waiter: () => void): () => void {
    if (!this.pollable) {
      return () => {};
    }
    const poller = this.options.poller ?? (sharedPoller ??= new HostPoller());
    return poller.watch(this.hostFd, mask, waiter);
  }

  /** Sets the size of the host file, for an open with O_TRUNC through /dev/stdout of a file given as stdout. */
  truncate(size: number): void {
    hostCall(() => ftruncateSync(this.hostFd, size));
  }

  /**
   * Opens the file again, as an open of /dev/stdout does: the new file uses
   * the same host descriptor, so it needs one that this file does not own.
   * A regular file gets its own offset, as a new open file description.
   * Access modes that the host descriptor lacks fail at the first I/O. As
   * on Linux, a socket cannot be opened this way.
   */
  reopen(_flags: number): FileDescriptionImpl {
    if (this.socket) {
      throw new SyscallError(Errno.ENXIO, `host descriptor ${this.hostFd} is a socket`);
    }
    if (this.options.ownsFd === true) {
      throw new SyscallError(Errno.ENXIO, `host descriptor ${this.hostFd} cannot be opened again`);
    }
    return new HostFdFile(this.hostFd, { ...this.options, positional: true });
  }

  release(): void {
    if (this.released) {
      return;
    }
    this.released = true;
    if (this.pollable) {
      releaseNonblocking(this.hostFd);
    }
    if (this.options.ownsFd === true) {
      closeSync(this.hostFd);
    }
  }
}
