import { Errno, SyscallError } from "@sandbox/abi";
import {
  DT_CHR,
  O_ACCMODE,
  O_RDONLY,
  O_TRUNC,
  RENAME_EXCHANGE,
  RENAME_NOREPLACE,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFMT,
  S_IFREG,
} from "../constants";
import type { FileDescriptionImpl, Inode } from "../FileSystem";
import type { Owner, SetAttr, Stat } from "../Stat";
import { copyUpInode } from "./copyUp";
import { listDirectory, type ListedEntry } from "./listDirectory";
import { OverlayDirectory, OverlayRegularFile } from "./OverlayFile";
import type { OverlayFileSystem } from "./OverlayFileSystem";

/** The owner of whiteouts. */
const ROOT_OWNER: Owner = { uid: 0, gid: 0 };

function isDirectory(inode: Inode): boolean {
  return (inode.mode & S_IFMT) === S_IFDIR;
}

/**
 * A file of an overlay: its upper inode, its lower inode, or both for a
 * merged directory. A lower-only file gets its upper inode at copy-up. The
 * parent and name say where a copy-up puts it.
 *
 * A directory caches the overlay inodes of the names it has looked up, so
 * a name keeps one overlay inode while it exists, and a copy-up through one
 * path is seen by every open file of it. Every change of the upper layer
 * goes through these methods, which keep the cache in step.
 */
export class OverlayInode implements Inode {
  readonly ino: number;
  /** True once the name of this inode was removed, so a copy-up must not bring it back. */
  private detached = false;
  private readonly children = new Map<string, OverlayInode>();

  constructor(
    readonly fs: OverlayFileSystem,
    public parent: OverlayInode | null,
    public name: string,
    public upper: Inode | undefined,
    readonly lower: Inode | undefined,
  ) {
    this.ino = fs.inoOf(upper, lower);
  }

  /** The layer that serves reads: the upper inode if there is one. */
  get real(): Inode {
    const real = this.upper ?? this.lower;
    if (real === undefined) {
      throw new Error("overlay inode without a layer");
    }
    return real;
  }

  get mode(): number {
    return this.real.mode;
  }

  get uid(): number {
    return this.real.uid;
  }

  get gid(): number {
    return this.real.gid;
  }

  stat(): Stat {
    const real = this.real.stat();
    // A merged directory reports the lower directory's size, link count and
    // blocks, so listings of untouched host directories match the host's.
    // NOTE: Linux overlayfs reports the upper directory's values here.
    const lower = this.lower;
    if (this.upper !== undefined && lower !== undefined && isDirectory(this.real) && isDirectory(lower)) {
      const base = lower.stat();
      return { ...real, size: base.size, nlink: base.nlink, blocks: base.blocks, dev: this.fs.dev, ino: this.ino };
    }
    return { ...real, dev: this.fs.dev, ino: this.ino };
  }

  lookup(name: string): Inode | undefined {
    return this.lookupChild(name);
  }

  /** Returns the overlay inode of the child `name`, or undefined if the merged view has none. */
  lookupChild(name: string): OverlayInode | undefined {
    if (!isDirectory(this.real)) {
      throw new SyscallError(Errno.ENOTDIR);
    }
    const cached = this.children.get(name);
    if (cached !== undefined) {
      return cached;
    }

    const upperChild = this.upper?.lookup(name);
    if (upperChild !== undefined && this.fs.isWhiteout(upperChild)) {
      return undefined;
    }
    let lowerChild: Inode | undefined;
    if (upperChild === undefined) {
      lowerChild = this.lowerLookup(name);
    } else if (isDirectory(upperChild) && !this.fs.isOpaque(upperChild)) {
      const candidate = this.lowerLookup(name);
      lowerChild = candidate !== undefined && isDirectory(candidate) ? candidate : undefined;
    }
    if (upperChild === undefined && lowerChild === undefined) {
      return undefined;
    }
    const child = new OverlayInode(this.fs, this, name, upperChild, lowerChild);
    this.children.set(name, child);
    return child;
  }

  readlink(): string {
    return this.real.readlink();
  }

  open(flags: number): FileDescriptionImpl {
    const type = this.mode & S_IFMT;
    if (type === S_IFDIR) {
      return new OverlayDirectory(this);
    }
    if (type === S_IFREG) {
      if ((flags & O_ACCMODE) !== O_RDONLY || (flags & O_TRUNC) !== 0) {
        this.copyUp();
      }
      return new OverlayRegularFile(this, flags);
    }
    if (type === S_IFIFO) {
      // A FIFO opens through the upper tmpfs, which gives it a pipe.
      return this.copyUp().open(flags);
    }
    return this.real.open(flags);
  }

  /**
   * Copies this file up if it is only in the lower layer, after its parent
   * directories, and returns its upper inode.
   */
  copyUp(): Inode {
    if (this.upper !== undefined) {
      return this.upper;
    }
    const lower = this.real;
    if (this.parent === null) {
      throw new Error("the overlay root has no upper directory");
    }
    let upper: Inode;
    if (this.detached) {
      // An open file whose name is gone (fchmod after unlink): copy it up
      // under a temporary name and remove that name at once.
      const upperRoot = this.fs.root().copyUp();
      const temporaryName = `.overlay-copy-up-${this.ino}`;
      upper = copyUpInode(lower, upperRoot, temporaryName);
      upperRoot.unlink(temporaryName);
    } else {
      upper = copyUpInode(lower, this.parent.copyUp(), this.name);
    }
    this.fs.recordCopyUp(upper, this.ino);
    this.upper = upper;
    return upper;
  }

  /** Lists the merged entries of this directory: upper entries first, whiteouts hidden. */
  listEntries(): ListedEntry[] {
    const entries: ListedEntry[] = [];
    const upperNames = new Set<string>();
    if (this.upper !== undefined) {
      const upper = this.upper;
      for (const entry of listDirectory(upper)) {
        upperNames.add(entry.name);
        if (entry.type !== DT_CHR || !this.isWhiteoutName(upper, entry.name)) {
          entries.push(entry);
        }
      }
    }
    if (this.lowerVisible) {
      for (const entry of listDirectory(this.lower as Inode)) {
        if (!upperNames.has(entry.name)) {
          entries.push(entry);
        }
      }
    }
    return entries;
  }

  create(name: string, mode: number, owner: Owner): Inode {
    const { directory } = this.prepareCreate(name);
    return this.remember(name, directory.create(name, mode, owner));
  }

  mkdir(name: string, mode: number, owner: Owner): Inode {
    const { directory, coversLower } = this.prepareCreate(name);
    const upper = directory.mkdir(name, mode, owner);
    if (coversLower) {
      this.fs.markOpaque(upper);
    }
    return this.remember(name, upper);
  }

  mknod(name: string, mode: number, rdev: number, owner: Owner): Inode {
    const { directory } = this.prepareCreate(name);
    return this.remember(name, directory.mknod(name, mode, rdev, owner));
  }

  symlink(name: string, target: string, owner: Owner): Inode {
    const { directory } = this.prepareCreate(name);
    return this.remember(name, directory.symlink(name, target, owner));
  }

  link(name: string, target: Inode): void {
    if (!(target instanceof OverlayInode) || target.fs !== this.fs) {
      throw new SyscallError(Errno.EXDEV);
    }
    const targetUpper = target.copyUp();
    const { directory } = this.prepareCreate(name);
    directory.link(name, targetUpper);
    this.children.set(name, target);
  }

  unlink(name: string): void {
    const child = this.existingChild(name);
    if (isDirectory(child.real)) {
      throw new SyscallError(Errno.EISDIR);
    }
    this.removeName(name);
  }

  rmdir(name: string): void {
    const child = this.existingChild(name);
    if (!isDirectory(child.real)) {
      throw new SyscallError(Errno.ENOTDIR);
    }
    if (child.listEntries().length > 0) {
      throw new SyscallError(Errno.ENOTEMPTY);
    }
    child.removeWhiteouts();
    this.removeName(name);
  }

  rename(oldName: string, newParent: Inode, newName: string, flags: number): void {
    if (!(newParent instanceof OverlayInode) || newParent.fs !== this.fs) {
      throw new SyscallError(Errno.EXDEV);
    }
    const source = this.existingChild(oldName);
    const target = newParent.lookupChild(newName);
    checkMovable(source);

    if ((flags & RENAME_EXCHANGE) !== 0) {
      if (target === undefined) {
        throw new SyscallError(Errno.ENOENT);
      }
      checkMovable(target);
      this.exchange(oldName, source, newParent, newName, target);
      return;
    }

    if (target !== undefined) {
      if ((flags & RENAME_NOREPLACE) !== 0) {
        throw new SyscallError(Errno.EEXIST);
      }
      if (target === source) {
        return;
      }
      if (isDirectory(target.real)) {
        if (target.listEntries().length > 0) {
          throw new SyscallError(Errno.ENOTEMPTY);
        }
        target.removeWhiteouts();
      }
    }

    const sourceUpper = source.copyUp();
    const from = this.copyUp();
    const { directory: to, coversLower } = newParent.prepareCreate(newName);
    if (target !== undefined) {
      newParent.forget(newName);
    }
    from.rename(oldName, to, newName, 0);
    if (this.lowerHas(oldName)) {
      from.mknod(oldName, S_IFCHR, 0, ROOT_OWNER);
    }
    if (isDirectory(sourceUpper) && coversLower) {
      this.fs.markOpaque(sourceUpper);
    }

    this.children.delete(oldName);
    newParent.children.set(newName, source);
    source.parent = newParent;
    source.name = newName;
  }

  setattr(attr: SetAttr): void {
    this.copyUp().setattr(attr);
  }

  /** Reports whether the lower directory shows through this one. */
  private get lowerVisible(): boolean {
    return this.lower !== undefined && !(this.upper !== undefined && this.fs.isOpaque(this.upper));
  }

  private lowerLookup(name: string): Inode | undefined {
    return this.lowerVisible ? this.lower?.lookup(name) : undefined;
  }

  /** Reports whether the lower layer has `name` in this directory, so removing it needs a whiteout. */
  private lowerHas(name: string): boolean {
    return this.lowerLookup(name) !== undefined;
  }

  private isWhiteoutName(directory: Inode, name: string): boolean {
    const inode = directory.lookup(name);
    return inode !== undefined && this.fs.isWhiteout(inode);
  }

  private existingChild(name: string): OverlayInode {
    const child = this.lookupChild(name);
    if (child === undefined) {
      throw new SyscallError(Errno.ENOENT);
    }
    return child;
  }

  /**
   * Copies this directory up and removes a whiteout at `name`, so a new
   * entry can go there. `coversLower` reports whether the lower layer has
   * `name`, so that a new directory there must be opaque.
   */
  private prepareCreate(name: string): { directory: Inode; coversLower: boolean } {
    const directory = this.copyUp();
    if (this.isWhiteoutName(directory, name)) {
      directory.unlink(name);
    }
    return { directory, coversLower: this.lowerHas(name) };
  }

  private remember(name: string, upper: Inode): OverlayInode {
    const child = new OverlayInode(this.fs, this, name, upper, undefined);
    this.children.set(name, child);
    return child;
  }

  /** Removes `name` from the upper layer and leaves a whiteout if the lower layer has it. */
  private removeName(name: string): void {
    const directory = this.copyUp();
    const upperChild = directory.lookup(name);
    if (upperChild !== undefined) {
      if (isDirectory(upperChild)) {
        directory.rmdir(name);
      } else {
        directory.unlink(name);
      }
    }
    if (this.lowerHas(name)) {
      directory.mknod(name, S_IFCHR, 0, ROOT_OWNER);
    }
    this.forget(name);
  }

  /** Drops the cached child `name`, whose name is gone. */
  private forget(name: string): void {
    const child = this.children.get(name);
    if (child !== undefined) {
      child.detached = true;
      this.children.delete(name);
    }
  }

  /** Removes the whiteouts of this empty upper directory before it is removed or replaced. */
  private removeWhiteouts(): void {
    if (this.upper === undefined) {
      return;
    }
    for (const entry of listDirectory(this.upper)) {
      this.upper.unlink(entry.name);
    }
    this.children.clear();
  }

  private exchange(oldName: string, source: OverlayInode, newParent: OverlayInode, newName: string, target: OverlayInode): void {
    const sourceUpper = source.copyUp();
    const targetUpper = target.copyUp();
    const from = this.copyUp();
    const to = newParent.copyUp();
    from.rename(oldName, to, newName, RENAME_EXCHANGE);
    if (isDirectory(sourceUpper) && newParent.lowerHas(newName)) {
      this.fs.markOpaque(sourceUpper);
    }
    if (isDirectory(targetUpper) && this.lowerHas(oldName)) {
      this.fs.markOpaque(targetUpper);
    }

    this.children.set(oldName, target);
    newParent.children.set(newName, source);
    target.parent = this;
    target.name = oldName;
    source.parent = newParent;
    source.name = newName;
  }
}

/** Throws EXDEV for a directory with lower contents, which overlayfs without redirect_dir cannot move. */
function checkMovable(inode: OverlayInode): void {
  if (isDirectory(inode.real) && inode.lower !== undefined) {
    throw new SyscallError(Errno.EXDEV, "cannot rename a directory of the lower layer");
  }
}
