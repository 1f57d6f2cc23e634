import { closeSync, fstatSync, readSync, writeSync } from "node:fs";
import type { FileDescriptionImpl } from "../FileSystem";
import type { Stat } from "../Stat";
import { hostCall } from "./hostErrors";
import { statFromHost } from "./hostStat";

/** Options of a HostFdFile. */
export interface HostFdFileOptions {
  /** Close the host descriptor when the file is released. False by default, as for the Sentry's own stdio. */
  ownsFd?: boolean;
}

/**
 * A file backed by a host descriptor that the caller hands in, such as the
 * terminal, pipe or file that the sandbox gets as stdin, stdout and stderr.
 * Reads and writes go to the host descriptor at its own host offset, so
 * this file is a stream here and lseek fails with ESPIPE. fstat reports
 * what the host reports, with the host's device and inode numbers.
 *
 * NOTE: a read on a blocking host descriptor blocks the whole event loop
 * until data arrives. A Sentry that must keep running sets O_NONBLOCK on the
 * host descriptor, gets EAGAIN, and waits for readiness itself.
 */
export class HostFdFile implements FileDescriptionImpl {
  readonly seekable = false;

  constructor(
    readonly hostFd: number,
    private readonly options: HostFdFileOptions = {},
  ) {
    if (!Number.isInteger(hostFd) || hostFd < 0) {
      throw new RangeError(`invalid host descriptor ${hostFd}: expected a non-negative integer`);
    }
  }

  read(dst: Uint8Array, _offset: number): number {
    if (dst.length === 0) {
      return 0;
    }
    return hostCall(() => readSync(this.hostFd, dst, 0, dst.length, null));
  }

  write(src: Uint8Array, _offset: number): number {
    if (src.length === 0) {
      return 0;
    }
    return hostCall(() => writeSync(this.hostFd, src, 0, src.length, null));
  }

  stat(): Stat {
    const attributes = hostCall(() => fstatSync(this.hostFd, { bigint: true }));
    return statFromHost(attributes, Number(attributes.dev), Number(attributes.ino));
  }

  release(): void {
    if (this.options.ownsFd === true) {
      closeSync(this.hostFd);
    }
  }
}
