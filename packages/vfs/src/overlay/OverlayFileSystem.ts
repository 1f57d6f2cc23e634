import { S_IALLUGO, S_IFCHR, S_IFMT } from "../constants";
import type { FileSystem, Inode } from "../FileSystem";
import type { TmpFileSystem } from "../tmpfs/TmpFileSystem";
import { OverlayInode } from "./OverlayInode";

/** Options of an OverlayFileSystem. */
export interface OverlayFileSystemOptions {
  /** st_dev of its inodes. Use VirtualFileSystem.allocateDevice. */
  dev: number;
}

/**
 * Overlay inode numbers of files that exist only in the upper layer start
 * here, above the numbers of the lower layer (host inode numbers, and
 * HostFileSystem's numbers from 2^52 for other host devices).
 */
export const UPPER_INO_BASE = 2 ** 52 + 2 ** 51;

/**
 * A writable view of a read-only lower file system, as Linux's overlayfs
 * gives: changes go to a writable upper tmpfs and never reach the lower one.
 *
 * - A name is looked up in the upper layer first, then in the lower one.
 *   Directories present in both are merged, and readdir lists the upper
 *   entries, then the lower entries that the upper layer does not name.
 * - The first change of a lower file (open for writing, truncate, chmod,
 *   chown, utimens, rename, link) copies it up: its parent directories,
 *   then its data, mode, owner and times (a copy-up of a sparse file keeps
 *   its holes).
 * - Removing a name that the lower layer has leaves a whiteout in the upper
 *   layer: a character device 0:0, as Linux uses, which lookups and readdir
 *   hide. A directory made where a whiteout was is opaque, so the lower
 *   directory of that name stays hidden below it. Opaque directories are
 *   kept in this object, since tmpfs has no extended attributes.
 * - Renaming a directory that has lower contents fails with EXDEV, as
 *   Linux's overlayfs does without redirect_dir, so mv(1) copies it instead.
 *
 * Inode numbers: a file or directory that exists in the lower layer has the
 * lower inode number, before and after a copy-up, so open files and `find`
 * keep seeing the same number. A file that exists only in the upper layer
 * has UPPER_INO_BASE plus its tmpfs number. st_dev is this file system's.
 *
 * Open files keep working across a copy-up: a description opened on the
 * lower file reads the upper copy from the next call on, as Linux does
 * since 4.19.
 *
 * The lower layer must not change while it is in use, as Linux requires:
 * names seen once stay cached. The upper tmpfs belongs to the overlay, which
 * copies the attributes of the lower root onto the upper root.
 */
export class OverlayFileSystem implements FileSystem {
  readonly type = "overlay";
  readonly readOnly = false;
  readonly dev: number;
  private readonly rootInode: OverlayInode;
  private readonly opaqueDirectories = new WeakSet<Inode>();
  private readonly copiedUpInos = new WeakMap<Inode, number>();

  constructor(
    readonly lower: FileSystem,
    readonly upper: TmpFileSystem,
    options: OverlayFileSystemOptions,
  ) {
    this.dev = options.dev;
    const lowerRoot = lower.root();
    const upperRoot = upper.root();
    const attributes = lowerRoot.stat();
    upperRoot.setattr({
      mode: attributes.mode & S_IALLUGO,
      uid: attributes.uid,
      gid: attributes.gid,
      atime: attributes.atime,
      mtime: attributes.mtime,
    });
    this.rootInode = new OverlayInode(this, null, "", upperRoot, lowerRoot);
  }

  root(): OverlayInode {
    return this.rootInode;
  }

  /** Returns the overlay inode number of a file whose layers are `upper` and `lower`. */
  inoOf(upper: Inode | undefined, lower: Inode | undefined): number {
    if (lower !== undefined) {
      return lower.ino;
    }
    if (upper === undefined) {
      throw new Error("overlay inode without a layer");
    }
    return this.copiedUpInos.get(upper) ?? UPPER_INO_BASE + upper.ino;
  }

  /** Records that `upper` is the copy of a lower file whose overlay inode number is `ino`. */
  recordCopyUp(upper: Inode, ino: number): void {
    this.copiedUpInos.set(upper, ino);
  }

  /** Reports whether the upper inode `inode` is a whiteout (a character device 0:0). */
  isWhiteout(inode: Inode): boolean {
    return (inode.mode & S_IFMT) === S_IFCHR && inode.stat().rdev === 0;
  }

  /** Reports whether the upper directory `inode` hides the lower directory of its name. */
  isOpaque(inode: Inode): boolean {
    return this.opaqueDirectories.has(inode);
  }

  /** Marks the upper directory `inode` opaque. */
  markOpaque(inode: Inode): void {
    this.opaqueDirectories.add(inode);
  }
}
