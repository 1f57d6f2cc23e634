// Read-only synthetic file system nodes whose content is computed when
// they are opened: the building blocks of procfs.
import { Errno, SyscallError } from "@sandbox/abi";
import type { DirentEmitter, FileDescriptionImpl, FileSystem, Inode, MagicLinkTarget, Stat } from "@sandbox/vfs";

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const DT_DIR = 4;
const DT_REG = 8;
const DT_LNK = 10;

/** A file system whose inodes are built on demand; inode numbers are stable per path. */
export abstract class SyntheticFileSystem implements FileSystem {
  abstract readonly type: string;
  readonly readOnly = true;
  private readonly inos = new Map<string, number>();

  constructor(readonly dev: number) {}

  abstract root(): Inode;

  /** Returns the inode number of the node at `path` within this file system. */
  inoFor(path: string): number {
    let ino = this.inos.get(path);
    if (ino === undefined) {
      ino = this.inos.size + 1;
      this.inos.set(path, ino);
    }
    return ino;
  }
}

/** A synthetic node; each subclass defines what it contains. */
abstract class SyntheticInode implements Inode {
  readonly ino: number;

  constructor(
    readonly fs: SyntheticFileSystem,
    readonly path: string,
    public mode: number,
    public uid = 0,
    public gid = 0,
  ) {
    this.ino = fs.inoFor(path);
  }

  stat(): Stat {
    const now = Date.now();
    const time = { sec: Math.floor(now / 1000), nsec: (now % 1000) * 1_000_000 };
    return {
      dev: this.fs.dev,
      ino: this.ino,
      mode: this.mode,
      nlink: (this.mode & S_IFDIR) !== 0 ? 2 : 1,
      uid: this.uid,
      gid: this.gid,
      rdev: 0,
      size: 0,
      blksize: 1024,
      blocks: 0,
      atime: time,
      mtime: time,
      ctime: time,
    };
  }

  lookup(_name: string): Inode | undefined {
    throw new SyscallError(Errno.ENOTDIR);
  }

  readlink(): string {
    throw new SyscallError(Errno.EINVAL);
  }

  abstract open(flags: number): FileDescriptionImpl;

  create(): Inode {
    throw new SyscallError(Errno.EACCES);
  }

  mkdir(): Inode {
    throw new SyscallError(Errno.EACCES);
  }

  mknod(): Inode {
    throw new SyscallError(Errno.EACCES);
  }

  symlink(): Inode {
    throw new SyscallError(Errno.EACCES);
  }

  link(): void {
    throw new SyscallError(Errno.EACCES);
  }

  unlink(): void {
    throw new SyscallError(Errno.EACCES);
  }

  rmdir(): void {
    throw new SyscallError(Errno.EACCES);
  }

  rename(): void {
    throw new SyscallError(Errno.EACCES);
  }

  setattr(): void {
    throw new SyscallError(Errno.EPERM);
  }
}

/** A regular file whose bytes are produced at open time (a snapshot, like a seq_file). */
export class SyntheticFile extends SyntheticInode {
  constructor(
    fs: SyntheticFileSystem,
    path: string,
    private readonly content: () => string | Uint8Array,
    mode = 0o444,
    owner?: { uid: number; gid: number },
  ) {
    super(fs, path, S_IFREG | mode, owner?.uid, owner?.gid);
  }

  open(): FileDescriptionImpl {
    const produced = this.content();
    const data = typeof produced === "string" ? Buffer.from(produced, "latin1") : produced;
    const stat = () => this.stat();
    return {
      seekable: true,
      read(dst: Uint8Array, offset: number): number {
        if (offset >= data.length) return 0;
        const count = Math.min(dst.length, data.length - offset);
        dst.set(data.subarray(offset, offset + count));
        return count;
      },
      write(): number {
        throw new SyscallError(Errno.EACCES);
      },
      stat,
      release() {},
    };
  }
}

/**
 * A symbolic link whose target is computed when it is read. With `magic`,
 * it is a magic link: following it leads to what `magic` returns, not to
 * the text.
 */
export class SyntheticSymlink extends SyntheticInode {
  constructor(
    fs: SyntheticFileSystem,
    path: string,
    private readonly target: () => string,
    owner?: { uid: number; gid: number },
    private readonly magic?: () => MagicLinkTarget | undefined,
  ) {
    super(fs, path, S_IFLNK | 0o777, owner?.uid, owner?.gid);
  }

  override readlink(): string {
    return this.target();
  }

  magicLink(): MagicLinkTarget | undefined {
    return this.magic?.();
  }

  open(): FileDescriptionImpl {
    throw new SyscallError(Errno.ELOOP);
  }
}

/** Returns the d_type of a synthetic inode's mode. */
function direntType(mode: number): number {
  const type = mode & 0o170000;
  if (type === S_IFDIR) return DT_DIR;
  if (type === S_IFLNK) return DT_LNK;
  return DT_REG;
}

/** A directory whose entries are listed afresh on every lookup and readdir. */
export class SyntheticDirectory extends SyntheticInode {
  constructor(
    fs: SyntheticFileSystem,
    path: string,
    private readonly entries: () => ReadonlyMap<string, () => Inode>,
    mode = 0o555,
    owner?: { uid: number; gid: number },
  ) {
    super(fs, path, S_IFDIR | mode, owner?.uid, owner?.gid);
  }

  override lookup(name: string): Inode | undefined {
    return this.entries().get(name)?.();
  }

  open(): FileDescriptionImpl {
    const stat = () => this.stat();
    const list = () => [...this.entries()].map(([name, make]) => ({ name, inode: make() }));
    return {
      seekable: true,
      read(): number {
        throw new SyscallError(Errno.EISDIR);
      },
      write(): number {
        throw new SyscallError(Errno.EISDIR);
      },
      stat,
      readdir(cursor: number, emit: DirentEmitter): void {
        const children = list();
        for (let index = cursor; index < children.length; index++) {
          const { name, inode } = children[index];
          const dtype = direntType(inode.mode);
          if (!emit(name, inode.ino, dtype, index + 1)) return;
        }
      },
      release() {},
    };
  }
}
