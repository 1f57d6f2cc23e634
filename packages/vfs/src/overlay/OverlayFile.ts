import { Errno, SyscallError } from "@sandbox/abi";
import { O_APPEND, O_CREAT, O_EXCL, O_TRUNC, SEEK_DATA } from "../constants";
import type { DirentEmitter, FileDescriptionImpl } from "../FileSystem";
import type { Stat } from "../Stat";
import type { SharedRange } from "../tmpfs/FileData";
import type { ListedEntry } from "./listDirectory";
import type { OverlayInode } from "./OverlayInode";

/** Flags that only matter when a file is opened, not when the overlay reopens its layer. */
const REOPEN_CLEARED = O_CREAT | O_EXCL | O_TRUNC | O_APPEND;

/**
 * An open regular file of an overlay. It does its I/O through the layer
 * that serves the file now: a description opened on the lower file before
 * a copy-up switches to the upper copy at its next call, so its reads
 * return the data written through other descriptions.
 */
export class OverlayRegularFile implements FileDescriptionImpl {
  readonly seekable = true;
  private layerImpl: FileDescriptionImpl;
  private layerIsUpper: boolean;

  constructor(
    private readonly inode: OverlayInode,
    private readonly flags: number,
  ) {
    this.layerIsUpper = inode.upper !== undefined;
    this.layerImpl = inode.real.open(flags & ~REOPEN_CLEARED);
  }

  /** The host descriptor of the layer that serves the file now, if it has one. */
  get hostFd(): number | undefined {
    return this.current().hostFd;
  }

  /** The pages of the layer that serves the file now, where it has them (a copy-up in a tmpfs). */
  get translate(): ((offset: number, length: number, write: boolean) => readonly SharedRange[]) | undefined {
    return this.current().translate;
  }

  /** The lower layer's content key while no copy-up exists; the upper copy can change. */
  get contentKey(): object | undefined {
    const layer = this.current();
    return this.layerIsUpper ? undefined : layer.contentKey;
  }

  read(dst: Uint8Array, offset: number): number {
    return this.current().read(dst, offset);
  }

  write(src: Uint8Array, offset: number): number {
    this.inode.copyUp();
    return this.current().write(src, offset);
  }

  stat(): Stat {
    return this.inode.stat();
  }

  truncate(size: number): void {
    this.inode.setattr({ size });
  }

  seekHole(offset: number, whence: number): number {
    const layer = this.current();
    if (layer.seekHole !== undefined) {
      return layer.seekHole(offset, whence);
    }
    const size = layer.stat().size;
    if (offset >= size) {
      throw new SyscallError(Errno.ENXIO);
    }
    return whence === SEEK_DATA ? offset : size;
  }

  release(): void {
    this.layerImpl.release();
  }

  /** Returns the open layer, reopened on the upper copy if a copy-up happened since. */
  private current(): FileDescriptionImpl {
    if (!this.layerIsUpper && this.inode.upper !== undefined) {
      const upperImpl = this.inode.upper.open(this.flags & ~REOPEN_CLEARED);
      this.layerImpl.release();
      this.layerImpl = upperImpl;
      this.layerIsUpper = true;
    }
    return this.layerImpl;
  }
}

/**
 * An open directory of an overlay. Its listing is the merged listing (see
 * OverlayInode.listEntries), taken when the cursor is 0 and kept until the
 * next rewind, so cursors are indexes into it and stay valid across
 * getdents64 calls while entries come and go.
 */
export class OverlayDirectory implements FileDescriptionImpl {
  readonly seekable = true;
  private listing: ListedEntry[] | undefined;

  constructor(private readonly inode: OverlayInode) {}

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
    if (cursor === 0 || this.listing === undefined) {
      this.listing = this.inode.listEntries();
    }
    for (let index = cursor; index < this.listing.length; index++) {
      const { name, type } = this.listing[index];
      const child = this.inode.lookupChild(name);
      if (child === undefined) {
        continue;
      }
      if (!emit(name, child.ino, type, index + 1)) {
        return;
      }
    }
  }

  release(): void {}
}
