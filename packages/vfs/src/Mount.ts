import type { Dentry } from "./Dentry";
import type { FileSystem } from "./FileSystem";

/**
 * One file system attached at a place of the mount tree. The root mount has
 * no parent and no mount point.
 */
export class Mount {
  /** Mounts attached at dentries of this mount, keyed by their mount point. */
  readonly children = new Map<Dentry, Mount>();

  constructor(
    /** Mount ID, unique within the VirtualFileSystem. */
    readonly id: number,
    readonly fs: FileSystem,
    /** The dentry of `fs` that appears at the mount point. */
    readonly root: Dentry,
    readonly parent: Mount | null,
    /** The dentry of `parent` that this mount covers. */
    readonly mountpoint: Dentry | null,
    /** True for a read-only mount (MS_RDONLY), where writes fail with EROFS. */
    readonly readOnly: boolean,
  ) {}

  /** Reports whether writes through this mount fail with EROFS. */
  get isReadOnly(): boolean {
    return this.readOnly || this.fs.readOnly;
  }
}
