import { S_IFDIR, S_IFLNK, S_IFMT } from "./constants";
import type { Inode } from "./FileSystem";
import type { Mount } from "./Mount";

/**
 * A name in the VFS tree: an inode as reached through a parent and a name.
 * Dentries give `..`, getcwd and mount points a stable identity, because a
 * file system hands out inodes, not paths.
 *
 * Every lookup calls the file system again, and the cached child is kept only
 * while it still names the same inode, so changes that a remote or host file
 * system makes behind the VFS show up on the next walk. A mount point is kept
 * even if its directory changes, as Linux pins it.
 *
 * NOTE: children stay cached until they are removed, renamed or replaced.
 * Nothing evicts unused dentries yet, so walking a huge host tree grows the
 * cache by one dentry per name seen.
 */
export class Dentry {
  private readonly children = new Map<string, Dentry>();
  /** Number of mounts whose mount point is this dentry. */
  mountCount = 0;
  /** True once the name was removed or now names another inode. */
  deleted = false;

  constructor(
    public inode: Inode,
    public name: string,
    public parent: Dentry | null,
  ) {}

  /** Reports whether the inode is a directory. */
  get isDirectory(): boolean {
    return (this.inode.mode & S_IFMT) === S_IFDIR;
  }

  /** Reports whether the inode is a symbolic link. */
  get isSymlink(): boolean {
    return (this.inode.mode & S_IFMT) === S_IFLNK;
  }

  /**
   * Looks up `name` (never "." or "..") in this directory and returns its
   * dentry, or undefined if the file system has no such entry.
   */
  lookup(name: string): Dentry | undefined {
    const cached = this.children.get(name);
    if (cached !== undefined && cached.mountCount > 0) {
      return cached;
    }

    const inode = this.inode.lookup(name);
    if (inode === undefined) {
      if (cached !== undefined) {
        this.forget(name, cached);
      }
      return undefined;
    }

    if (cached !== undefined) {
      if (cached.inode === inode || (cached.inode.fs === inode.fs && cached.inode.ino === inode.ino)) {
        cached.inode = inode;
        return cached;
      }
      this.forget(name, cached);
    }
    return this.insert(name, inode);
  }

  /** Caches `inode` as the child `name`, after the VFS created it. */
  insert(name: string, inode: Inode): Dentry {
    const stale = this.children.get(name);
    if (stale !== undefined) {
      this.forget(name, stale);
    }
    const child = new Dentry(inode, name, this);
    this.children.set(name, child);
    return child;
  }

  /** Marks the cached child `name` deleted and drops it, after the VFS removed it. */
  remove(name: string): void {
    const child = this.children.get(name);
    if (child !== undefined) {
      this.forget(name, child);
    }
  }

  /** Moves this dentry to `newName` in `newParent`, after the file system renamed it. */
  moveTo(newParent: Dentry, newName: string): void {
    if (this.parent !== null && this.parent.children.get(this.name) === this) {
      this.parent.children.delete(this.name);
    }
    newParent.remove(newName);
    this.parent = newParent;
    this.name = newName;
    newParent.children.set(newName, this);
  }

  /** Swaps the places of two dentries, after the file system exchanged them (RENAME_EXCHANGE). */
  static exchange(a: Dentry, b: Dentry): void {
    const aParent = a.parent;
    const bParent = b.parent;
    if (aParent === null || bParent === null) {
      throw new Error("Dentry.exchange of a root dentry");
    }
    const aName = a.name;
    const bName = b.name;
    aParent.children.delete(aName);
    bParent.children.delete(bName);
    a.parent = bParent;
    a.name = bName;
    b.parent = aParent;
    b.name = aName;
    bParent.children.set(bName, a);
    aParent.children.set(aName, b);
  }

  /** Reports whether `ancestor` is this dentry or one of its ancestors. */
  isDescendantOf(ancestor: Dentry): boolean {
    for (let d: Dentry | null = this; d !== null; d = d.parent) {
      if (d === ancestor) {
        return true;
      }
    }
    return false;
  }

  private forget(name: string, child: Dentry): void {
    child.deleted = true;
    this.children.delete(name);
  }
}

/** A dentry as seen through one mount: what a path resolves to. */
export interface VirtualDentry {
  readonly mount: Mount;
  readonly dentry: Dentry;
}

/** Reports whether two virtual dentries are the same place in the mount tree. */
export function sameVirtualDentry(a: VirtualDentry, b: VirtualDentry): boolean {
  return a.mount === b.mount && a.dentry === b.dentry;
}
