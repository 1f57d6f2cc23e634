import { Errno, SyscallError } from "@sandbox/abi";
import {
  AT_EMPTY_PATH,
  AT_SYMLINK_NOFOLLOW,
  O_ACCMODE,
  O_CLOEXEC,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_LARGEFILE,
  O_NOATIME,
  O_NOFOLLOW,
  O_PATH,
  O_RDONLY,
  O_RDWR,
  O_TMPFILE,
  O_TRUNC,
  O_WRONLY,
  R_OK,
  S_IALLUGO,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  W_OK,
  X_OK,
} from "../constants";
import type { VirtualDentry } from "../Dentry";
import { FileDescription } from "../FileDescription";
import type { FileDescriptionImpl } from "../FileSystem";
import { checkAccess, checkExecute, isOwnerOrRoot } from "../permission";
import type { PathResolver } from "../PathResolver";
import type { Stat } from "../Stat";
import {
  checkFlags,
  checkMountWritable,
  checkWritable,
  type FsContext,
  newResolver,
  ownerOfNewInode,
  resolveAt,
  startOf,
} from "./context";

/** Flags that O_PATH keeps. The others are ignored, as on Linux. */
const O_PATH_FLAGS = O_PATH | O_CLOEXEC | O_DIRECTORY | O_NOFOLLOW;

/**
 * Implements openat(2): resolves `path` from `dir` (or the working
 * directory), handles O_CREAT, O_EXCL, O_TRUNC, O_DIRECTORY, O_NOFOLLOW and
 * O_PATH, checks permissions, and returns a new description with one
 * reference. `mode` is used only when a file is created. The umask applies.
 * O_CLOEXEC is left for the caller, which puts it on the descriptor.
 */
export function openAt(
  ctx: FsContext,
  dir: FileDescription | undefined,
  path: string,
  flags: number,
  mode: number,
): FileDescription {
  if ((flags & O_TMPFILE) === O_TMPFILE) {
    // TODO: O_TMPFILE (an unnamed file in a tmpfs directory) is not supported yet.
    throw new SyscallError(Errno.EOPNOTSUPP, "O_TMPFILE is not supported");
  }
  if ((flags & O_PATH) !== 0) {
    flags &= O_PATH_FLAGS;
  } else if ((flags & O_CREAT) !== 0 && (flags & O_DIRECTORY) !== 0) {
    throw new SyscallError(Errno.EINVAL, "O_CREAT with O_DIRECTORY");
  } else if ((flags & O_ACCMODE) === O_ACCMODE) {
    // NOTE: Linux accepts access mode 3 (no reads or writes, ioctl only). Here it is rejected.
    throw new SyscallError(Errno.EINVAL, "invalid access mode 3");
  }

  const resolver = newResolver(ctx);
  const start = path.startsWith("/") ? ctx.root : startOf(ctx, dir);
  let vd: VirtualDentry;
  let created = false;
  if ((flags & O_CREAT) !== 0) {
    ({ vd, created } = openOrCreate(ctx, resolver, start, path, flags, mode));
    if (vd.dentry.isDirectory) {
      throw new SyscallError(Errno.EISDIR);
    }
  } else {
    vd = resolver.resolve(start, path, (flags & O_NOFOLLOW) === 0);
  }
  const magicFile = resolver.takeMagicFile();
  if (magicFile !== undefined) {
    return reopen(ctx, magicFile, flags);
  }

  const inode = vd.dentry.inode;
  const type = inode.mode & S_IFMT;
  if ((flags & O_DIRECTORY) !== 0 && type !== S_IFDIR) {
    throw new SyscallError(Errno.ENOTDIR);
  }
  if ((flags & O_PATH) !== 0) {
    return new FileDescription(new PathFile(() => vd.dentry.inode.stat()), flags, vd);
  }
  if (type === S_IFLNK) {
    throw new SyscallError(Errno.ELOOP);
  }

  if ((flags & O_NOATIME) !== 0 && !isOwnerOrRoot(ctx.creds, inode)) {
    throw new SyscallError(Errno.EPERM, "O_NOATIME on a file of another user");
  }
  const accessMode = flags & O_ACCMODE;
  if (!created) {
    let access = 0;
    if (accessMode === O_RDONLY || accessMode === O_RDWR) {
      access |= R_OK;
    }
    if (accessMode === O_WRONLY || accessMode === O_RDWR || (flags & O_TRUNC) !== 0) {
      access |= W_OK;
    }
    if (type === S_IFDIR && (access & W_OK) !== 0) {
      throw new SyscallError(Errno.EISDIR);
    }
    if ((access & W_OK) !== 0) {
      checkWritable(vd, inode);
    }
    checkAccess(ctx.creds, inode, access);
  }

  const impl = inode.open(flags);
  if ((flags & O_TRUNC) !== 0 && type === S_IFREG && !created) {
    try {
      inode.setattr({ size: 0 });
    } catch (error) {
      impl.release();
      throw error;
    }
  }
  return new FileDescription(impl, flags | O_LARGEFILE, vd);
}

/**
 * Opens the file that execve(2) or execveat(2) runs: `path` is resolved
 * from `dir` (following a final symbolic link unless AT_SYMLINK_NOFOLLOW is
 * set, which then fails with ELOOP), and the file must be a regular file
 * with execute permission (EACCES). Read permission is not needed, as on
 * Linux, so the description is opened read-only without checking it.
 */
export function openExecutable(
  ctx: FsContext,
  dir: FileDescription | undefined,
  path: string,
  atFlags: number,
): FileDescription {
  checkFlags(atFlags, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH, "execveat");
  const vd = resolveAt(ctx, newResolver(ctx), dir, path, atFlags, (atFlags & AT_SYMLINK_NOFOLLOW) === 0);
  const inode = vd.dentry.inode;
  if (vd.dentry.isSymlink) {
    throw new SyscallError(Errno.ELOOP);
  }
  checkExecute(ctx.creds, inode);
  return new FileDescription(inode.open(O_RDONLY), O_RDONLY | O_LARGEFILE, vd);
}

/**
 * Finds the last component for an open with O_CREAT and creates it if it
 * does not exist. A symbolic link in the last component is followed (even a
 * dangling one, whose target is then created) unless O_EXCL or O_NOFOLLOW
 * is set.
 */
function openOrCreate(
  ctx: FsContext,
  resolver: PathResolver,
  start: VirtualDentry,
  path: string,
  flags: number,
  mode: number,
): { vd: VirtualDentry; created: boolean } {
  let { parent, name, trailingSlash } = resolver.resolveParent(start, path);
  for (;;) {
    if (trailingSlash || name === "" || name === "." || name === "..") {
      throw new SyscallError(Errno.EISDIR);
    }

    const child = resolver.lookupChild(parent, name);
    if (child === undefined) {
      checkMountWritable(parent);
      checkAccess(ctx.creds, parent.dentry.inode, W_OK | X_OK);
      const permissions = mode & S_IALLUGO & ~ctx.umask;
      const inode = parent.dentry.inode.create(name, permissions, ownerOfNewInode(ctx, parent.dentry.inode));
      const dentry = parent.dentry.insert(name, inode);
      return { vd: { mount: parent.mount, dentry }, created: true };
    }
    if ((flags & O_EXCL) !== 0) {
      throw new SyscallError(Errno.EEXIST);
    }

    const found = resolver.followMounts(child);
    if (!found.dentry.isSymlink) {
      return { vd: found, created: false };
    }
    if ((flags & O_NOFOLLOW) !== 0) {
      throw new SyscallError(Errno.ELOOP);
    }
    const magic = resolver.followMagicLink(found);
    if (magic !== undefined) {
      return { vd: magic, created: false };
    }
    const target = resolver.readSymlink(found);
    ({ parent, name, trailingSlash } = resolver.resolveParent(parent, target));
  }
}

/**
 * Opens `file`, a file without a place in the tree that a magic link such
 * as /proc/self/fd/N leads to, as a new description with `flags`. As on
 * Linux, the permissions of the file apply, O_TRUNC empties a regular
 * file, and a pipe opens as a FIFO does.
 */
function reopen(ctx: FsContext, file: FileDescription, flags: number): FileDescription {
  if ((flags & O_PATH) !== 0) {
    return new FileDescription(new PathFile(() => file.impl.stat()), flags);
  }
  const stat = file.impl.stat();
  const accessMode = flags & O_ACCMODE;
  let access = 0;
  if (accessMode === O_RDONLY || accessMode === O_RDWR) {
    access |= R_OK;
  }
  if (accessMode === O_WRONLY || accessMode === O_RDWR || (flags & O_TRUNC) !== 0) {
    access |= W_OK;
  }
  checkAccess(ctx.creds, stat, access);
  if (file.impl.reopen === undefined) {
    throw new SyscallError(Errno.ENXIO, "this kind of file cannot be opened again");
  }
  const impl = file.impl.reopen(flags);
  if ((flags & O_TRUNC) !== 0 && (stat.mode & S_IFMT) === S_IFREG) {
    try {
      impl.truncate?.(0);
    } catch (error) {
      impl.release();
      throw error;
    }
  }
  return new FileDescription(impl, flags | O_LARGEFILE);
}

/** The I/O half of an O_PATH description: the file can be named and stat'ed, nothing else. */
class PathFile implements FileDescriptionImpl {
  readonly seekable = false;

  constructor(private readonly statFile: () => Stat) {}

  read(_dst: Uint8Array, _offset: number): number {
    throw new SyscallError(Errno.EBADF);
  }

  write(_src: Uint8Array, _offset: number): number {
    throw new SyscallError(Errno.EBADF);
  }

  stat(): Stat {
    return this.statFile();
  }

  release(): void {}
}
