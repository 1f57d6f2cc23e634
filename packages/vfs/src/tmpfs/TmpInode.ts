import { Errno, SyscallError } from "@sandbox/abi";
import { S_IALLUGO, S_IFMT } from "../constants";
import type { FileDescriptionImpl, Inode } from "../FileSystem";
import { type Owner, type SetAttr, type Stat, type Timespec, timespecNow } from "../Stat";
import type { TmpFileSystem } from "./TmpFileSystem";

/** st_blksize of every tmpfs inode. */
const BLOCK_SIZE = 4096;

/**
 * The part that every tmpfs inode shares: attributes and the default results
 * of operations that only some file types support. Subclasses are the
 * directory, regular file, symbolic link and special file.
 */
export abstract class TmpInode implements Inode {
  readonly ino: number;
  mode: number;
  uid: number;
  gid: number;
  nlink = 1;
  rdev = 0;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;

  constructor(
    readonly fs: TmpFileSystem,
    mode: number,
    owner: Owner,
  ) {
    this.ino = fs.nextIno();
    this.mode = mode;
    this.uid = owner.uid;
    this.gid = owner.gid;
    const now = timespecNow();
    this.atime = now;
    this.mtime = now;
    this.ctime = now;
  }

  /** st_size: bytes for files and link targets, a nominal size for directories. */
  abstract get size(): number;

  /** Allocated 512-byte blocks. */
  get blocks(): number {
    return 0;
  }

  stat(): Stat {
    return {
      dev: this.fs.dev,
      ino: this.ino,
      mode: this.mode,
      nlink: this.nlink,
      uid: this.uid,
      gid: this.gid,
      rdev: this.rdev,
      size: this.size,
      blksize: BLOCK_SIZE,
      blocks: this.blocks,
      atime: { ...this.atime },
      mtime: { ...this.mtime },
      ctime: { ...this.ctime },
    };
  }

  abstract open(flags: number): FileDescriptionImpl;

  lookup(_name: string): Inode | undefined {
    throw new SyscallError(Errno.ENOTDIR);
  }

  readlink(): string {
    throw new SyscallError(Errno.EINVAL);
  }

  create(_name: string, _mode: number, _owner: Owner): Inode {
    throw new SyscallError(Errno.ENOTDIR);
  }

  mkdir(_name: string, _mode: number, _owner: Owner): Inode {
    throw new SyscallError(Errno.ENOTDIR);
  }

  mknod(_name: string, _mode: number, _rdev: number, _owner: Owner): Inode {
    throw new SyscallError(Errno.ENOTDIR);
  }

  symlink(_name: string, _target: string, _owner: Owner): Inode {
    throw new SyscallError(Errno.ENOTDIR);
  }

  link(_name: string, _target: Inode): void {
    throw new SyscallError(Errno.ENOTDIR);
  }

  unlink(_name: string): void {
    throw new SyscallError(Errno.ENOTDIR);
  }

  rmdir(_name: string): void {
    throw new SyscallError(Errno.ENOTDIR);
  }

  rename(_oldName: string, _newParent: Inode, _newName: string, _flags: number): void {
    throw new SyscallError(Errno.ENOTDIR);
  }

  setattr(attr: SetAttr): void {
    if (attr.size !== undefined) {
      this.setSize(attr.size);
    }
    if (attr.mode !== undefined) {
      this.mode = (this.mode & S_IFMT) | (attr.mode & S_IALLUGO);
    }
    if (attr.uid !== undefined) {
      this.uid = attr.uid;
    }
    if (attr.gid !== undefined) {
      this.gid = attr.gid;
    }
    if (attr.atime !== undefined) {
      this.atime = { ...attr.atime };
    }
    if (attr.mtime !== undefined) {
      this.mtime = { ...attr.mtime };
    }
    this.ctime = timespecNow();
  }

  /** Changes the size. Only regular files support it. */
  protected setSize(_size: number): void {
    throw new SyscallError(Errno.EINVAL);
  }

  /** Records a change of contents: mtime and ctime become now. */
  touchModified(): void {
    const now = timespecNow();
    this.mtime = now;
    this.ctime = now;
  }

  /** Records a change of attributes only (such as the link count): ctime becomes now. */
  touchChanged(): void {
    this.ctime = timespecNow();
  }
}
