import type { FileDescriptionImpl } from "../FileSystem";
import type { Stat } from "../Stat";
import { FileData } from "./FileData";
import { TmpInode } from "./TmpInode";

/** A regular file of a tmpfs. Its contents are a sparse FileData. */
export class TmpRegularFile extends TmpInode {
  readonly data = new FileData();

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
    this.data.truncate(size);
    this.touchModified();
  }
}

/** The open-file half of a tmpfs regular file. */
class TmpRegularFileImpl implements FileDescriptionImpl {
  readonly seekable = true;

  constructor(private readonly inode: TmpRegularFile) {}

  read(dst: Uint8Array, offset: number): number {
    return this.inode.data.read(dst, offset);
  }

  write(src: Uint8Array, offset: number): number {
    if (src.length === 0) {
      return 0;
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

  release(): void {}
}

