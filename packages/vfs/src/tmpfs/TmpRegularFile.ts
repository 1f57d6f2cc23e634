import { Errno, SyscallError } from "@sandbox/abi";
import type { FileDescriptionImpl } from "../FileSystem";
import type { Stat } from "../Stat";
import { FileData, type SharedRange } from "./FileData";
import { TmpInode } from "./TmpInode";

/** The seals of fcntl(F_ADD_SEALS) (include/uapi/linux/fcntl.h). */
export const F_SEAL_SEAL = 0x1;
export const F_SEAL_SHRINK = 0x2;
export const F_SEAL_GROW = 0x4;
export const F_SEAL_WRITE = 0x8;
export const F_SEAL_FUTURE_WRITE = 0x10;
export const F_SEAL_EXEC = 0x20;
const ALL_SEALS = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_EXEC;

/** A regular file of a tmpfs. Its contents are a sparse FileData. */
export class TmpRegularFile extends TmpInode {
  readonly data = new FileData();
  /**
   * The file's seals. As on Linux, a tmpfs file starts sealed against new
   * seals; memfd_create(MFD_ALLOW_SEALING) clears that.
   */
  seals = F_SEAL_SEAL;
  /** The target /proc/[pid]/fd/N shows for a file without a name, such as "/memfd:NAME (deleted)". */
  linkName?: string;

  get size(): number {
    return this.data.size;
  }

  override get blocks(): number {
    return this.data.allocatedPages * 8;
  }

  open(_flags: number): FileDescriptionImpl {
    return new TmpRegularFileImpl(this);
  }

  protected override setSize(size: number): void {
    this.checkSizeSeals(size);
    this.data.truncate(size);
    this.touchModified();
  }

  /** Throws EPERM when a seal forbids changing the size to `size`. */
  checkSizeSeals(size: number): void {
    if ((this.seals & F_SEAL_SHRINK) !== 0 && size < this.size) {
      throw new SyscallError(Errno.EPERM, "the file is sealed against shrinking");
    }
    if ((this.seals & F_SEAL_GROW) !== 0 && size > this.size) {
      throw new SyscallError(Errno.EPERM, "the file is sealed against growing");
    }
  }
}

/** The open-file half of a tmpfs regular file. */
class TmpRegularFileImpl implements FileDescriptionImpl {
  readonly seekable = true;

  constructor(private readonly inode: TmpRegularFile) {}

  get linkName(): string | undefined {
    return this.inode.linkName;
  }

  read(dst: Uint8Array, offset: number): number {
    return this.inode.data.read(dst, offset);
  }

  write(src: Uint8Array, offset: number): number {
    if (src.length === 0) {
      return 0;
    }
    if ((this.inode.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) !== 0) {
      throw new SyscallError(Errno.EPERM, "the file is sealed against writes");
    }
    if (offset + src.length > this.inode.size) {
      this.inode.checkSizeSeals(offset + src.length);
    }
    this.inode.data.write(src, offset);
    this.inode.touchModified();
    return src.length;
  }

  stat(): Stat {
    return this.inode.stat();
  }

  truncate(size: number): void {
    this.inode.setattr({ size });
  }

  seekHole(offset: number, whence: number): number {
    return this.inode.data.seekHole(offset, whence);
  }

  /** Maps the file's pages, on a tmpfs with shared pages (see FileData.translate). */
  get translate(): ((offset: number, length: number, write: boolean) => readonly SharedRange[]) | undefined {
    const pages = this.inode.fs.sharedPages;
    if (pages === undefined) return undefined;
    return (offset, length) => this.inode.data.translate(pages, offset, length);
  }

  /** Opens the file again, as an open through /proc/self/fd/N of a memfd does. */
  reopen(_flags: number): FileDescriptionImpl {
    return new TmpRegularFileImpl(this.inode);
  }

  /** Returns the seals, as fcntl(F_GET_SEALS) does. */
  getSeals(): number {
    return this.inode.seals;
  }

  /** Adds `seals`, as fcntl(F_ADD_SEALS) does: EPERM once F_SEAL_SEAL is set, EINVAL for unknown bits. */
  addSeals(seals: number): void {
    if ((seals & ~ALL_SEALS) !== 0) {
      throw new SyscallError(Errno.EINVAL, `unknown seals 0x${(seals & ~ALL_SEALS).toString(16)}`);
    }
    if ((this.inode.seals & F_SEAL_SEAL) !== 0) {
      throw new SyscallError(Errno.EPERM, "the file is sealed against new seals");
    }
    this.inode.seals |= seals;
  }

  release(): void {}
}
