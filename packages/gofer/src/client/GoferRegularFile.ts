import { closeSync, ftruncateSync, readSync, writeSync } from "node:fs";
import type { FileDescriptionImpl, Stat } from "@sandbox/vfs";
import { hostCall, statOfHostFd } from "./hostFdStat";
import type { SharedHostFd } from "./SharedHostFd";

/**
 * An open regular file of a gofer mount: a host descriptor that the gofer
 * sent, read and written here at the description's offsets without asking
 * the gofer again. It keeps working after the gofer is gone, as the
 * descriptor is this process's own. Owns the descriptor, or shares it with
 * other open files of the same file.
 */
export class GoferRegularFile implements FileDescriptionImpl {
  readonly seekable = true;
  readonly hostFd: number;

  constructor(
    descriptor: number | SharedHostFd,
    private readonly dev: number,
    private readonly ino: number,
    /** The file's content key (see FileDescriptionImpl.contentKey), on a caching mount. */
    readonly contentKey?: object,
  ) {
    this.shared = typeof descriptor === "number" ? undefined : descriptor;
    this.hostFd = typeof descriptor === "number" ? descriptor : descriptor.fd;
  }

  private readonly shared: SharedHostFd | undefined;

  read(dst: Uint8Array, offset: number): number {
    if (dst.length === 0) {
      return 0;
    }
    return hostCall(() => readSync(this.hostFd, dst, 0, dst.length, offset));
  }

  write(src: Uint8Array, offset: number): number {
    if (src.length === 0) {
      return 0;
    }
    return hostCall(() => writeSync(this.hostFd, src, 0, src.length, offset));
  }

  stat(): Stat {
    return statOfHostFd(this.hostFd, this.dev, this.ino);
  }

  truncate(size: number): void {
    hostCall(() => ftruncateSync(this.hostFd, size));
  }

  release(): void {
    if (this.shared !== undefined) this.shared.release();
    else closeSync(this.hostFd);
  }
}
