import type { VirtualDentry } from "./Dentry";
import type { FileDescription } from "./FileDescription";
import type { Permissions } from "./permission";
import type { Owner, SetAttr, Stat } from "./Stat";
import type { SharedRange } from "./tmpfs/FileData";

/**
 * Receives one directory entry from `FileDescriptionImpl.readdir`: its name,
 * inode number, d_type (DT_*), and the cursor of the entry after it.
 * Returns false to stop the listing, for example when the caller's buffer is
 * full. The entry that got `false` counts as not delivered.
 */
export type DirentEmitter = (name: string, ino: number, type: number, nextCursor: number) => boolean;

/**
 * One mounted file system: tmpfs, the host tree, devfs, later the gofer.
 *
 * Every method of this interface and of Inode takes plain values and returns
 * plain values or an open file, so a file system can live in another process
 * behind synchronous messages over a socket. An Inode then stands for a
 * remote handle, `lookup` is a walk of one name from a handle, and `open`
 * returns a description around a host descriptor received with SCM_RIGHTS.
 */
export interface FileSystem {
  /** File system type as /proc/mounts shows it ("tmpfs", "hostfs", ...). */
  readonly type: string;
  /** st_dev of every inode of this file system (see makeDev). */
  readonly dev: number;
  /** True if no operation of this file system can change it. */
  readonly readOnly: boolean;
  /** Returns the root directory. */
  root(): Inode;
}

/**
 * A file of a file system: a directory, regular file, symbolic link or
 * special file. The VFS checks permissions, read-only mounts and name rules
 * before it calls a method, so a file system only checks what depends on its
 * own state (ENOENT, EEXIST, ENOTEMPTY, ...). Names are byte strings (see
 * VirtualFileSystem) and never "." or "..". Write operations of a read-only
 * file system throw EROFS.
 */
/**
 * The destination of a magic link: a file in the tree, or an open file
 * without a place there (a pipe or a host descriptor), which only open and
 * stat follow.
 */
export type MagicLinkTarget = { readonly vd: VirtualDentry } | { readonly file: FileDescription };

export interface Inode extends Permissions {
  readonly fs: FileSystem;
  /** Inode number, unique within the file system while the inode exists. */
  readonly ino: number;

  /** Returns the attributes, read afresh. */
  stat(): Stat;

  /** Returns the child named `name` of this directory, or undefined if none exists. */
  lookup(name: string): Inode | undefined;

  /** Returns the target of this symbolic link. */
  readlink(): string;

  /**
   * For a magic link such as /proc/[pid]/fd/N: where following the link
   * leads instead of its text, or undefined to follow the text.
   */
  magicLink?(): MagicLinkTarget | undefined;

  /**
   * Opens this file. `flags` are the open flags after the VFS handled
   * O_CREAT, O_EXCL, O_TRUNC, O_DIRECTORY and O_NOFOLLOW.
   */
  open(flags: number): FileDescriptionImpl;

  /** Creates a regular file `name` in this directory. `mode` contains only permission bits. */
  create(name: string, mode: number, owner: Owner): Inode;

  /** Creates the directory `name` in this directory. */
  mkdir(name: string, mode: number, owner: Owner): Inode;

  /** Creates a special file `name`. `mode` includes its S_IFMT type and `rdev` its device number. */
  mknod(name: string, mode: number, rdev: number, owner: Owner): Inode;

  /** Creates the symbolic link `name` pointing to `target`. */
  symlink(name: string, target: string, owner: Owner): Inode;

  /** Adds the name `name` for the non-directory `target` of the same file system. */
  link(name: string, target: Inode): void;

  /** Removes the name `name` of a non-directory. */
  unlink(name: string): void;

  /** Removes the empty directory `name`. */
  rmdir(name: string): void;

  /**
   * Moves the entry `oldName` of this directory to `newName` in `newParent`
   * (same file system), replacing what was there. `flags` are RENAME_*
   * flags, already validated. The VFS has checked the type rules (EISDIR,
   * ENOTDIR, EINVAL for a move into a descendant), so the file system checks
   * ENOTEMPTY and RENAME_NOREPLACE itself.
   */
  rename(oldName: string, newParent: Inode, newName: string, flags: number): void;

  /** Changes attributes. Also updates ctime. */
  setattr(attr: SetAttr): void;
}

/**
 * The file-specific half of an open file: what a FileDescription calls to
 * do I/O. The FileDescription owns the offset, the status flags and the
 * access mode checks.
 */
export interface FileDescriptionImpl {
  /**
   * True for files with a position (regular files, directories, memory
   * devices). False for streams (pipes, terminals, sockets): their offsets
   * are ignored, pread and pwrite fail with ESPIPE, and so does lseek unless
   * `seek` is defined.
   */
  readonly seekable: boolean;

  /** Host descriptor that backs this file, if any (for mmap and for passing on). */
  readonly hostFd?: number;

  /**
   * Set only where the file's content cannot change while the sandbox
   * runs (a file of a read-only mount whose host tree no other process changes): an
   * object that names that content, the same for every open of the file.
   * Mappings of such files share the Sentry's cached pages instead of
   * copying the file for each process.
   */
  readonly contentKey?: object;

  /**
   * True where a write succeeds without looking at the bytes (/dev/null,
   * /dev/zero), so the Sentry does not copy them from the caller, as Linux
   * does not.
   */
  readonly discardsWrites?: boolean;

  /** Reads up to dst.length bytes at `offset` and returns the count, 0 at end of file. */
  read(dst: Uint8Array, offset: number): number;

  /** Writes `src` at `offset` and returns the count written. */
  write(src: Uint8Array, offset: number): number;

  /** Returns the attributes of the open file. */
  stat(): Stat;

  /**
   * Lists directory entries from `cursor` on, with "." and ".." left out
   * (the FileDescription adds them). Cursor 0 is the first entry. Only
   * directories define this.
   */
  readdir?(cursor: number, emit: DirentEmitter): void;

  /** Sets the size of a regular file. */
  truncate?(size: number): void;

  /**
   * Returns the first offset at or after `offset` that contains data (SEEK_DATA)
   * or is in a hole (SEEK_HOLE), or throws ENXIO when there is none. Without
   * this method, the whole file counts as data.
   */
  seekHole?(offset: number, whence: number): number;

  /** Replaces lseek for files whose offset rules are their own, such as devices. */
  seek?(current: number, offset: number, whence: number): number;

  /**
   * Returns the events of `mask` (PollEvents bits) that are ready now, plus
   * POLLERR and POLLHUP when they hold, as poll(2) reports them unrequested.
   * A file that defines this never blocks in `read` or `write`: with no data
   * to read or no room to write, they throw SyscallError(EAGAIN), and the
   * caller waits through `watch`. A file without it is always ready, as a
   * regular file is, and its calls never wait.
   */
  readiness?(mask: number): number;

  /**
   * Registers `waiter` to be called when any event of `mask` (POLLERR and
   * POLLHUP always count) may have become ready, and returns a function that
   * unregisters it. The waiter is called at most once and may be called
   * spuriously, so the caller checks `readiness` again. To miss no wake-up,
   * register first, then check `readiness`, then wait.
   */
  watch?(mask: number, waiter: () => void): () => void;

  /** Frees what the open file holds. Called once, when the last reference goes. */
  release(): void;

  /**
   * Opens this file again with `flags`, for an open through a magic link of
   * a file without a place in the tree. Without it, such an open fails with
   * ENXIO, as for a socket on Linux.
   */
  reopen?(flags: number): FileDescriptionImpl;

  /**
   * Returns the pages of the Sentry's memory file that hold [offset,
   * offset+length) of the file (both page-aligned), for mm's
   * Mappable.translate. Files with it can be mapped MAP_SHARED.
   */
  readonly translate?: (offset: number, length: number, write: boolean) => readonly SharedRange[];

  /** The target /proc/[pid]/fd/N shows for a file without a place in the tree, where it has a name. */
  readonly linkName?: string;

  /** Returns the seals of fcntl(F_GET_SEALS). Files without it have none: the fcntl fails with EINVAL. */
  getSeals?(): number;

  /** Adds seals, as fcntl(F_ADD_SEALS) does. */
  addSeals?(seals: number): void;
}
