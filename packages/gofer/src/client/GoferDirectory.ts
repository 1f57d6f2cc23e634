import { closeSync } from "node:fs";
import { Errno, SyscallError } from "@sandbox/abi";
import type { DirentEmitter, FileDescriptionImpl, Stat } from "@sandbox/vfs";
import type { GoferInode } from "./GoferInode";
import { statOfHostFd } from "./hostFdStat";
import type { SharedHostFd } from "./SharedHostFd";

/** One directory entry as the gofer listed it. */
export interface GoferDirent {
  name: string;
  ino: number;
  /** d_type: DT_* */
  type: number;
}

/**
 * An open directory of a gofer mount. The listing is fetched from the gofer
 * when the cursor is 0 (at the start and after a rewind) and kept until the
 * next rewind, so cursors are indexes into it, in the host's getdents order.
 * `hostFd` is the host directory the gofer opened, used for fstat. Owns it,
 * or shares it with other open files of the directory.
 */
export class GoferDirectory implements FileDescriptionImpl {
  readonly seekable = true;
  readonly hostFd: number;
  private readonly shared: SharedHostFd | undefined;
  private listing: readonly GoferDirent[] | undefined;

  constructor(
    private readonly inode: GoferInode,
    descriptor: number | SharedHostFd,
  ) {
    this.shared = typeof descriptor === "number" ? undefined : descriptor;
    this.hostFd = typeof descriptor === "number" ? descriptor : descriptor.fd;
  }

  read(_dst: Uint8Array, _offset: number): number {
    throw new SyscallError(Errno.EISDIR);
  }

  write(_src: Uint8Array, _offset: number): number {
    throw new SyscallError(Errno.EISDIR);
  }

  stat(): Stat {
    return statOfHostFd(this.hostFd, this.inode.fs.dev, this.inode.ino);
  }

  readdir(cursor: number, emit: DirentEmitter): void {
    if (cursor === 0 || this.listing === undefined) {
      this.listing = this.inode.list();
    }
    for (let index = cursor; index < this.listing.length; index++) {
      const { name, ino, type } = this.listing[index];
      if (!emit(name, ino, type, index + 1)) {
        return;
      }
    }
  }

  release(): void {
    if (this.shared !== undefined) this.shared.release();
    else closeSync(this.hostFd);
  }
}
