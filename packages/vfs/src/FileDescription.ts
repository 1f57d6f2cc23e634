import { Errno, PollEvents, SyscallError } from "@sandbox/abi";
import {
  DT_DIR,
  O_ACCMODE,
  O_APPEND,
  O_CLOEXEC,
  O_CREAT,
  O_EXCL,
  O_NOCTTY,
  O_NONBLOCK,
  O_PATH,
  O_RDONLY,
  O_RDWR,
  O_TRUNC,
  O_WRONLY,
  SEEK_CUR,
  SEEK_DATA,
  SEEK_END,
  SEEK_HOLE,
  SEEK_SET,
  SETFL_MASK,
} from "./constants";
import type { VirtualDentry } from "./Dentry";
import { writeDirent64 } from "./dirent";
import type { DirentEmitter, FileDescriptionImpl } from "./FileSystem";
import type { Stat } from "./Stat";
import { ALWAYS_POLLED, DEFAULT_READINESS } from "./WaiterQueue";

/** Open flags that only matter during open and are not kept in f_flags. */
const OPEN_ONLY_FLAGS = O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC;

/** Cursor of the first entry of the file system, after "." (0) and ".." (1). */
const FIRST_IMPL_CURSOR = 2;

/**
 * An open file, shared by every descriptor that dup or fork made from one
 * open: the offset, the status flags (F_GETFL/F_SETFL) and the access mode
 * live here, and the file-specific work is done by `impl`.
 *
 * Offsets are numbers, so files larger than 2^53 bytes are out of reach.
 * The description starts with one reference, owned by the caller that opened it.
 */
export class FileDescription {
  private refs = 1;
  private flags: number;
  private position = 0;

  constructor(
    readonly impl: FileDescriptionImpl,
    flags: number,
    /** The place in the tree that was opened, or undefined for a file with no name (host descriptors, pipes). */
    readonly vd?: VirtualDentry,
  ) {
    this.flags = flags & ~OPEN_ONLY_FLAGS;
  }

  /** The flags that F_GETFL returns: access mode and status flags. */
  get statusFlags(): number {
    return this.flags;
  }

  /** Reports whether the description was opened with O_PATH (no I/O allowed). */
  get isPath(): boolean {
    return (this.flags & O_PATH) !== 0;
  }

  /** Reports whether read is allowed by the access mode. */
  get readable(): boolean {
    const mode = this.flags & O_ACCMODE;
    return !this.isPath && (mode === O_RDONLY || mode === O_RDWR);
  }

  /** Reports whether write is allowed by the access mode. */
  get writable(): boolean {
    const mode = this.flags & O_ACCMODE;
    return !this.isPath && (mode === O_WRONLY || mode === O_RDWR);
  }

  /** Reports whether O_NONBLOCK is set: then EAGAIN goes back to the caller instead of making it wait. */
  get nonblocking(): boolean {
    return (this.flags & O_NONBLOCK) !== 0;
  }

  /** The file offset (for directories, the readdir cursor). */
  get offset(): number {
    return this.position;
  }

  /** Replaces the status flags that F_SETFL may change (O_APPEND, O_NONBLOCK, ...). */
  setStatusFlags(flags: number): void {
    this.flags = (this.flags & ~SETFL_MASK) | (flags & SETFL_MASK);
  }

  /** Takes one more reference. */
  incRef(): void {
    if (this.refs <= 0) {
      throw new Error("FileDescription.incRef after the last reference was dropped");
    }
    this.refs++;
  }

  /** Drops one reference and releases the file when it was the last. */
  decRef(): void {
    if (this.refs <= 0) {
      throw new Error("FileDescription.decRef after the last reference was dropped");
    }
    this.refs--;
    if (this.refs === 0) {
      this.impl.release();
    }
  }

  /** Number of references held (for tests and /proc). */
  get refCount(): number {
    return this.refs;
  }

  /**
   * Implements read(2): reads at the offset and advances it. A file with
   * readiness (a pipe, a host pipe or terminal) throws EAGAIN when it has no
   * data. The caller then waits for POLLIN unless the description is
   * `nonblocking`, and reads again.
   */
  read(dst: Uint8Array): number {
    if (!this.readable) {
      throw new SyscallError(Errno.EBADF);
    }
    if (!this.impl.seekable) {
      return this.impl.read(dst, 0);
    }
    const count = this.impl.read(dst, this.position);
    this.position += count;
    return count;
  }

  /** Implements pread64(2): reads at `offset` without moving the file offset. */
  pread(dst: Uint8Array, offset: number): number {
    if (!this.readable) {
      throw new SyscallError(Errno.EBADF);
    }
    this.checkPositional(offset);
    return this.impl.read(dst, offset);
  }

  /**
   * Implements write(2): writes at the offset, or at the end with O_APPEND,
   * and advances it. A file with readiness throws EAGAIN when it has no room
   * and may write less than `src` (a pipe write larger than PIPE_BUF). A
   * caller that must block waits for POLLOUT and writes the rest.
   */
  write(src: Uint8Array): number {
    if (!this.writable) {
      throw new SyscallError(Errno.EBADF);
    }
    if (!this.impl.seekable) {
      return this.impl.write(src, 0);
    }
    if ((this.flags & O_APPEND) !== 0) {
      this.position = this.impl.stat().size;
    }
    const count = this.impl.write(src, this.position);
    this.position += count;
    return count;
  }

  /**
   * Implements pwrite64(2): writes at `offset` without moving the file
   * offset. As on Linux, O_APPEND makes it append regardless of `offset`.
   */
  pwrite(src: Uint8Array, offset: number): number {
    if (!this.writable) {
      throw new SyscallError(Errno.EBADF);
    }
    this.checkPositional(offset);
    const at = (this.flags & O_APPEND) !== 0 ? this.impl.stat().size : offset;
    return this.impl.write(src, at);
  }

  /**
   * Implements lseek(2). Directories accept only SEEK_SET and SEEK_CUR, and
   * their offset is a readdir cursor. Throws ESPIPE for streams, EINVAL for
   * an unknown `whence` or a negative result, ENXIO for SEEK_DATA or
   * SEEK_HOLE at or past the end.
   */
  seek(offset: number, whence: number): number {
    if (this.isPath) {
      throw new SyscallError(Errno.EBADF);
    }
    if (this.impl.seek !== undefined) {
      this.position = this.impl.seek(this.position, offset, whence);
      return this.position;
    }
    if (!this.impl.seekable) {
      throw new SyscallError(Errno.ESPIPE);
    }

    const isDirectory = this.impl.readdir !== undefined;
    let next: number;
    switch (whence) {
      case SEEK_SET:
        next = offset;
        break;
      case SEEK_CUR:
        next = this.position + offset;
        break;
      case SEEK_END:
        if (isDirectory) {
          throw new SyscallError(Errno.EINVAL);
        }
        next = this.impl.stat().size + offset;
        break;
      case SEEK_DATA:
      case SEEK_HOLE:
        if (isDirectory) {
          throw new SyscallError(Errno.EINVAL);
        }
        next = this.seekHole(offset, whence);
        break;
      default:
        throw new SyscallError(Errno.EINVAL, `unknown lseek whence ${whence}`);
    }

    if (next < 0 || !Number.isSafeInteger(next)) {
      throw new SyscallError(Errno.EINVAL, `resulting offset ${next} is out of range`);
    }
    this.position = next;
    return next;
  }

  /**
   * Lists directory entries from the offset on, "." and ".." first, and
   * advances the offset past each entry that `emit` accepts. Throws ENOTDIR
   * for a file that is not a directory.
   */
  readdir(emit: DirentEmitter): void {
    if (this.isPath) {
      throw new SyscallError(Errno.EBADF);
    }
    const listDirectory = this.impl.readdir?.bind(this.impl);
    if (listDirectory === undefined) {
      throw new SyscallError(Errno.ENOTDIR);
    }

    if (this.position === 0) {
      const ino = this.vd?.dentry.inode.ino ?? this.impl.stat().ino;
      if (!emit(".", ino, DT_DIR, 1)) {
        return;
      }
      this.position = 1;
    }
    if (this.position === 1) {
      const dentry = this.vd?.dentry;
      const ino = dentry === undefined ? this.impl.stat().ino : (dentry.parent ?? dentry).inode.ino;
      if (!emit("..", ino, DT_DIR, FIRST_IMPL_CURSOR)) {
        return;
      }
      this.position = FIRST_IMPL_CURSOR;
    }

    listDirectory(this.position - FIRST_IMPL_CURSOR, (name, ino, type, nextCursor) => {
      const next = nextCursor + FIRST_IMPL_CURSOR;
      if (!emit(name, ino, type, next)) {
        return false;
      }
      this.position = next;
      return true;
    });
  }

  /**
   * Implements getdents64(2): fills `buffer` with linux_dirent64 records and
   * returns the bytes written, 0 at the end. Throws EINVAL if the buffer
   * cannot hold the next entry.
   */
  getdents64(buffer: Uint8Array): number {
    const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    let used = 0;
    let sawEntry = false;
    this.readdir((name, ino, type, nextCursor) => {
      sawEntry = true;
      const length = writeDirent64(view, used, ino, nextCursor, type, name);
      used += length;
      return length > 0;
    });
    if (used === 0 && sawEntry) {
      throw new SyscallError(Errno.EINVAL, "buffer too small for the next directory entry");
    }
    return used;
  }

  /**
   * Returns the events of `mask` (PollEvents bits) that are ready now, plus
   * POLLERR and POLLHUP when they hold. Files without readiness of their own
   * are always ready to read and write. An O_PATH description reports
   * POLLNVAL, as poll(2) does for a descriptor it cannot poll.
   */
  readiness(mask: number): number {
    if (this.isPath) {
      return PollEvents.POLLNVAL;
    }
    if (this.impl.readiness === undefined) {
      return mask & (DEFAULT_READINESS | ALWAYS_POLLED);
    }
    return this.impl.readiness(mask);
  }

  /**
   * Registers `waiter` to be called once when an event of `mask` may have
   * become ready and returns a function that unregisters it (see
   * FileDescriptionImpl.watch). A file that is always ready never calls it.
   */
  watch(mask: number, waiter: () => void): () => void {
    if (this.isPath || this.impl.watch === undefined) {
      return () => {};
    }
    return this.impl.watch(mask, waiter);
  }

  /** Implements fstat(2). */
  stat(): Stat {
    return this.impl.stat();
  }

  /**
   * Implements ftruncate(2). Throws EINVAL unless the description is open for
   * writing and the file is a regular file, or if `size` is negative.
   */
  truncate(size: number): void {
    if (this.isPath) {
      throw new SyscallError(Errno.EBADF);
    }
    if (!this.writable || this.impl.truncate === undefined) {
      throw new SyscallError(Errno.EINVAL);
    }
    if (size < 0 || !Number.isSafeInteger(size)) {
      throw new SyscallError(Errno.EINVAL, `invalid size ${size}`);
    }
    this.impl.truncate(size);
  }

  private checkPositional(offset: number): void {
    if (!this.impl.seekable) {
      throw new SyscallError(Errno.ESPIPE);
    }
    if (offset < 0 || !Number.isSafeInteger(offset)) {
      throw new SyscallError(Errno.EINVAL, `invalid offset ${offset}`);
    }
  }

  private seekHole(offset: number, whence: number): number {
    if (offset < 0) {
      throw new SyscallError(Errno.ENXIO);
    }
    if (this.impl.seekHole !== undefined) {
      return this.impl.seekHole(offset, whence);
    }
    const size = this.impl.stat().size;
    if (offset >= size) {
      throw new SyscallError(Errno.ENXIO);
    }
    return whence === SEEK_DATA ? offset : size;
  }
}
