import { Errno, SyscallError } from "@sandbox/abi";
import {
  RENAME_EXCHANGE,
  RENAME_NOREPLACE,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFMT,
  S_IFREG,
  S_IFSOCK,
  modeToDirentType,
} from "../constants";
import type { DirentEmitter, FileDescriptionImpl, Inode } from "../FileSystem";
import type { Owner, Stat } from "../Stat";
import { TmpInode } from "./TmpInode";
import { TmpRegularFile } from "./TmpRegularFile";
import { TmpSpecialFile } from "./TmpSpecialFile";
import { TmpSymlink } from "./TmpSymlink";

/** The size a tmpfs directory reports per entry, "." and ".." included (Linux's BOGO_DIRENT_SIZE). */
const DIRENT_SIZE = 20;

interface DirectoryEntry {
  inode: TmpInode;
  /** Position in readdir order. It only grows, so cursors stay valid while entries come and go. */
  cookie: number;
}

/**
 * A directory of a tmpfs. Entries are listed in the order they were added,
 * and a renamed entry moves to the end. A readdir cursor is the cookie of
 * the next entry, so a listing that spans several getdents64 calls neither
 * repeats nor skips entries that stay in place.
 */
export class TmpDirectory extends TmpInode {
  private readonly entries = new Map<string, DirectoryEntry>();
  private nextCookie = 0;

  constructor(fs: TmpInode["fs"], mode: number, owner: Owner) {
    super(fs, S_IFDIR | (mode & ~S_IFMT), owner);
    this.nlink = 2;
  }

  get size(): number {
    return (this.entries.size + 2) * DIRENT_SIZE;
  }

  /** Number of entries, "." and ".." not counted. */
  get entryCount(): number {
    return this.entries.size;
  }

  override lookup(name: string): Inode | undefined {
    return this.entries.get(name)?.inode;
  }

  open(_flags: number): FileDescriptionImpl {
    return new TmpDirectoryImpl(this);
  }

  override create(name: string, mode: number, owner: Owner): Inode {
    return this.add(name, new TmpRegularFile(this.fs, S_IFREG | (mode & ~S_IFMT), owner));
  }

  override mkdir(name: string, mode: number, owner: Owner): Inode {
    const child = this.add(name, new TmpDirectory(this.fs, mode, owner));
    this.nlink++;
    return child;
  }

  override mknod(name: string, mode: number, rdev: number, owner: Owner): Inode {
    switch (mode & S_IFMT) {
      case S_IFREG:
        return this.create(name, mode, owner);
      case S_IFCHR:
      case S_IFBLK:
      case S_IFIFO:
      case S_IFSOCK:
        return this.add(name, new TmpSpecialFile(this.fs, mode, rdev, owner));
      default:
        throw new SyscallError(Errno.EINVAL, `mknod of file type 0o${(mode & S_IFMT).toString(8)}`);
    }
  }

  override symlink(name: string, target: string, owner: Owner): Inode {
    return this.add(name, new TmpSymlink(this.fs, target, owner));
  }

  override link(name: string, target: Inode): void {
    if (!(target instanceof TmpInode) || target.fs !== this.fs) {
      throw new SyscallError(Errno.EXDEV);
    }
    if ((target.mode & S_IFMT) === S_IFDIR) {
      throw new SyscallError(Errno.EPERM);
    }
    this.add(name, target);
    target.nlink++;
    target.touchChanged();
  }

  override unlink(name: string): void {
    const entry = this.entry(name);
    if ((entry.inode.mode & S_IFMT) === S_IFDIR) {
      throw new SyscallError(Errno.EISDIR);
    }
    this.entries.delete(name);
    entry.inode.nlink--;
    entry.inode.touchChanged();
    this.touchModified();
  }

  override rmdir(name: string): void {
    const entry = this.entry(name);
    const child = entry.inode;
    if (!(child instanceof TmpDirectory)) {
      throw new SyscallError(Errno.ENOTDIR);
    }
    if (child.entries.size > 0) {
      throw new SyscallError(Errno.ENOTEMPTY);
    }
    this.entries.delete(name);
    child.nlink = 0;
    child.touchChanged();
    this.nlink--;
    this.touchModified();
  }

  override rename(oldName: string, newParent: Inode, newName: string, flags: number): void {
    if (!(newParent instanceof TmpDirectory) || newParent.fs !== this.fs) {
      throw new SyscallError(Errno.EXDEV);
    }
    const source = this.entry(oldName);
    const target = newParent.entries.get(newName);

    if ((flags & RENAME_EXCHANGE) !== 0) {
      if (target === undefined) {
        throw new SyscallError(Errno.ENOENT);
      }
      this.exchange(oldName, source.inode, newParent, newName, target.inode);
      return;
    }

    if (target !== undefined) {
      if ((flags & RENAME_NOREPLACE) !== 0) {
        throw new SyscallError(Errno.EEXIST);
      }
      if (target.inode === source.inode) {
        return;
      }
      newParent.dropForReplace(newName, target.inode);
    }

    this.entries.delete(oldName);
    newParent.entries.set(newName, { inode: source.inode, cookie: newParent.nextCookie++ });
    if (source.inode instanceof TmpDirectory && newParent !== this) {
      this.nlink--;
      newParent.nlink++;
    }
    source.inode.touchChanged();
    this.touchModified();
    newParent.touchModified();
  }

  /** Lists entries with cookie >= cursor, in cookie order. */
  readdir(cursor: number, emit: DirentEmitter): void {
    for (const [name, entry] of this.entries) {
      if (entry.cookie < cursor) {
        continue;
      }
      if (!emit(name, entry.inode.ino, modeToDirentType(entry.inode.mode), entry.cookie + 1)) {
        return;
      }
    }
  }

  private entry(name: string): DirectoryEntry {
    const entry = this.entries.get(name);
    if (entry === undefined) {
      throw new SyscallError(Errno.ENOENT);
    }
    return entry;
  }

  private add<T extends TmpInode>(name: string, inode: T): T {
    if (this.nlink === 0) {
      throw new SyscallError(Errno.ENOENT, "directory was removed");
    }
    if (this.entries.has(name)) {
      throw new SyscallError(Errno.EEXIST);
    }
    this.entries.set(name, { inode, cookie: this.nextCookie++ });
    this.touchModified();
    return inode;
  }

  /** Removes the entry that a rename replaces. A directory must be empty. */
  private dropForReplace(name: string, replaced: TmpInode): void {
    if (replaced instanceof TmpDirectory) {
      if (replaced.entries.size > 0) {
        throw new SyscallError(Errno.ENOTEMPTY);
      }
      replaced.nlink = 0;
      this.nlink--;
    } else {
      replaced.nlink--;
    }
    replaced.touchChanged();
    this.entries.delete(name);
  }

  private exchange(oldName: string, source: TmpInode, newParent: TmpDirectory, newName: string, target: TmpInode): void {
    this.entries.set(oldName, { inode: target, cookie: this.entries.get(oldName)?.cookie ?? this.nextCookie++ });
    newParent.entries.set(newName, { inode: source, cookie: newParent.entries.get(newName)?.cookie ?? newParent.nextCookie++ });
    if (newParent !== this) {
      const sourceIsDirectory = source instanceof TmpDirectory ? 1 : 0;
      const targetIsDirectory = target instanceof TmpDirectory ? 1 : 0;
      this.nlink += targetIsDirectory - sourceIsDirectory;
      newParent.nlink += sourceIsDirectory - targetIsDirectory;
    }
    source.touchChanged();
    target.touchChanged();
    this.touchModified();
    newParent.touchModified();
  }
}

/** The open-file half of a tmpfs directory. */
class TmpDirectoryImpl implements FileDescriptionImpl {
  readonly seekable = true;

  constructor(private readonly inode: TmpDirectory) {}

  read(_dst: Uint8Array, _offset: number): number {
    throw new SyscallError(Errno.EISDIR);
  }

  write(_src: Uint8Array, _offset: number): number {
    throw new SyscallError(Errno.EISDIR);
  }

  stat(): Stat {
    return this.inode.stat();
  }

  readdir(cursor: number, emit: DirentEmitter): void {
    this.inode.readdir(cursor, emit);
  }

  release(): void {}
}
