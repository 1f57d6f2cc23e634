import { Errno, SyscallError } from "@sandbox/abi";
import { AT_EMPTY_PATH, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, S_ISGID } from "../constants";
import type { Credentials } from "../Credentials";
import type { VirtualDentry } from "../Dentry";
import type { FileDescription } from "../FileDescription";
import type { Inode } from "../FileSystem";
import { PathResolver } from "../PathResolver";
import type { Owner } from "../Stat";

/**
 * The state of a task that its path operations use: the credentials, the
 * directories that "/" and "." name, and the umask for new files. The Sentry keeps one per task (or per
 * shared fs_struct) and passes it to every VirtualFileSystem call.
 */
export interface FsContext {
  /** File system credentials (fsuid, fsgid, groups). */
  creds: Credentials;
  /** The task's root directory (chroot). */
  root: VirtualDentry;
  /** The working directory. */
  cwd: VirtualDentry;
  /** Permission bits cleared from the mode of new files and directories. */
  umask: number;
}

/** Returns a resolver for one system call made in `ctx`. */
export function newResolver(ctx: FsContext): PathResolver {
  return new PathResolver(ctx.creds, ctx.root);
}

/**
 * Returns where a relative `path` starts: the directory of `dir` (the
 * dirfd of an *at call), or the working directory if `dir` is undefined.
 * Throws ENOTDIR when `dir` has no place in the tree (a pipe or host
 * descriptor) and the path is relative.
 */
export function startOf(ctx: FsContext, dir: FileDescription | undefined): VirtualDentry {
  if (dir === undefined) {
    return ctx.cwd;
  }
  if (dir.vd === undefined) {
    throw new SyscallError(Errno.ENOTDIR);
  }
  return dir.vd;
}

/**
 * Resolves the `path` of an *at call. An empty path names `dir` itself (or
 * the working directory) when `atFlags` has AT_EMPTY_PATH, and fails with
 * ENOENT otherwise.
 */
export function resolveAt(
  ctx: FsContext,
  resolver: PathResolver,
  dir: FileDescription | undefined,
  path: string,
  atFlags: number,
  follow: boolean,
): VirtualDentry {
  if (path.length === 0 && (atFlags & AT_EMPTY_PATH) !== 0) {
    return startOf(ctx, dir);
  }
  if (path.startsWith("/")) {
    return resolver.resolve(ctx.root, path, follow);
  }
  return resolver.resolve(path.length === 0 ? ctx.cwd : startOf(ctx, dir), path, follow);
}

/** Throws EINVAL if `flags` has bits outside `known`. */
export function checkFlags(flags: number, known: number, call: string): void {
  if ((flags & ~known) !== 0) {
    throw new SyscallError(Errno.EINVAL, `unknown ${call} flags 0x${(flags & ~known).toString(16)}`);
  }
}

/**
 * Throws EROFS if `vd` is on a read-only mount and `inode` is a kind of
 * file whose writes would change the file system (regular file, directory,
 * symbolic link). Device nodes stay writable, as on Linux.
 */
export function checkWritable(vd: VirtualDentry, inode: Inode = vd.dentry.inode): void {
  const type = inode.mode & S_IFMT;
  if (vd.mount.isReadOnly && (type === S_IFREG || type === S_IFDIR || type === S_IFLNK)) {
    throw new SyscallError(Errno.EROFS);
  }
}

/** Throws EROFS if names cannot be added to or removed from the mount of `vd`. */
export function checkMountWritable(vd: VirtualDentry): void {
  if (vd.mount.isReadOnly) {
    throw new SyscallError(Errno.EROFS);
  }
}

/** Returns the owner of a new inode in `parent`: a set-group-ID directory passes its group on. */
export function ownerOfNewInode(ctx: FsContext, parent: Inode): Owner {
  const gid = (parent.mode & S_ISGID) !== 0 ? parent.gid : ctx.creds.gid;
  return { uid: ctx.creds.uid, gid };
}

/** Reports whether `inode` is a directory. */
export function isDirectory(inode: Inode): boolean {
  return (inode.mode & S_IFMT) === S_IFDIR;
}

/** Reports whether `name` is a normal last component, not "", "." or "..". */
export function isNormalName(name: string): boolean {
  return name.length > 0 && name !== "." && name !== "..";
}
