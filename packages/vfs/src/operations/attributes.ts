import { Errno, SyscallError } from "@sandbox/abi";
import {
  AT_EACCESS,
  AT_EMPTY_PATH,
  AT_NO_AUTOMOUNT,
  AT_SYMLINK_NOFOLLOW,
  F_OK,
  R_OK,
  S_IALLUGO,
  S_IFDIR,
  S_IFMT,
  S_IFREG,
  S_ISGID,
  S_ISUID,
  UTIME_NOW,
  UTIME_OMIT,
  W_OK,
  X_OK,
} from "../constants";
import type { VirtualDentry } from "../Dentry";
import type { FileDescription } from "../FileDescription";
import { checkAccess, isOwnerOrRoot, mayAccess } from "../permission";
import { type SetAttr, type Stat, type Timespec, timespecNow } from "../Stat";
import { checkFlags, checkWritable, type FsContext, newResolver, resolveAt } from "./context";

/** Resolves the target of a call that takes AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH. */
function resolveTarget(
  ctx: FsContext,
  dir: FileDescription | undefined,
  path: string,
  atFlags: number,
): VirtualDentry {
  return resolveAt(ctx, newResolver(ctx), dir, path, atFlags, (atFlags & AT_SYMLINK_NOFOLLOW) === 0);
}

/**
 * Returns the file that an *at call with AT_EMPTY_PATH names when `dir` is
 * a file with no place in the tree (a pipe or host descriptor), or
 * undefined when the path must be resolved.
 */
function unnamedFile(dir: FileDescription | undefined, path: string, atFlags: number): FileDescription | undefined {
  if (path.length === 0 && (atFlags & AT_EMPTY_PATH) !== 0 && dir !== undefined && dir.vd === undefined) {
    return dir;
  }
  return undefined;
}

/** Implements newfstatat(2) (and stat, lstat, fstat through AT_EMPTY_PATH). */
export function statAt(ctx: FsContext, dir: FileDescription | undefined, path: string, atFlags: number): Stat {
  checkFlags(atFlags, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT, "fstatat");
  if (path.length === 0 && (atFlags & AT_EMPTY_PATH) !== 0 && dir !== undefined) {
    return dir.stat();
  }
  const resolver = newResolver(ctx);
  const vd = resolveAt(ctx, resolver, dir, path, atFlags, (atFlags & AT_SYMLINK_NOFOLLOW) === 0);
  // A magic link to a pipe or a host descriptor stats the open file.
  return resolver.takeMagicFile()?.stat() ?? vd.dentry.inode.stat();
}

/**
 * Implements faccessat2(2). `mode` is F_OK or a set of R_OK, W_OK, X_OK.
 * The caller picks the credentials: the real IDs, or the effective ones for
 * AT_EACCESS.
 */
export function accessAt(
  ctx: FsContext,
  dir: FileDescription | undefined,
  path: string,
  mode: number,
  atFlags: number,
): void {
  if ((mode & ~(R_OK | W_OK | X_OK)) !== 0) {
    throw new SyscallError(Errno.EINVAL, `invalid access mode 0x${mode.toString(16)}`);
  }
  checkFlags(atFlags, AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH, "faccessat2");
  const vd = resolveTarget(ctx, dir, path, atFlags);
  if (mode === F_OK) {
    return;
  }
  if ((mode & W_OK) !== 0) {
    checkWritable(vd);
  }
  checkAccess(ctx.creds, vd.dentry.inode, mode);
}

/** Implements readlinkat(2). An empty path names `dir` itself (an O_PATH descriptor of a link). */
export function readlinkAt(ctx: FsContext, dir: FileDescription | undefined, path: string): string {
  const vd = resolveTarget(ctx, dir, path, AT_SYMLINK_NOFOLLOW | (path.length === 0 ? AT_EMPTY_PATH : 0));
  if (!vd.dentry.isSymlink) {
    throw new SyscallError(Errno.EINVAL);
  }
  return vd.dentry.inode.readlink();
}

/**
 * Resolves a directory that becomes the working directory (chdir, fchdir
 * through AT_EMPTY_PATH) or the root (chroot). Throws ENOTDIR for other
 * files and EACCES without search permission.
 */
export function resolveDirectory(
  ctx: FsContext,
  dir: FileDescription | undefined,
  path: string,
  atFlags: number,
): VirtualDentry {
  checkFlags(atFlags, AT_EMPTY_PATH, "chdir");
  const vd = resolveTarget(ctx, dir, path, atFlags);
  if (!vd.dentry.isDirectory) {
    throw new SyscallError(Errno.ENOTDIR);
  }
  checkAccess(ctx.creds, vd.dentry.inode, X_OK);
  return vd;
}

/**
 * Resolves the target of a change of attributes and checks that it can be
 * changed: EPERM for a file with no place in the tree, EROFS on a read-only
 * mount.
 */
function resolveForChange(
  ctx: FsContext,
  dir: FileDescription | undefined,
  path: string,
  atFlags: number,
  call: string,
): VirtualDentry {
  checkFlags(atFlags, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH, call);
  if (unnamedFile(dir, path, atFlags) !== undefined) {
    throw new SyscallError(Errno.EPERM, `${call} of a file that is not in the file system tree`);
  }
  const vd = resolveTarget(ctx, dir, path, atFlags);
  checkWritable(vd);
  return vd;
}

/**
 * Implements fchmodat(2) (and chmod, fchmod through AT_EMPTY_PATH). Only the
 * owner or root may do it (EPERM). A caller outside the file's group loses
 * S_ISGID, as on Linux.
 */
export function chmodAt(
  ctx: FsContext,
  dir: FileDescription | undefined,
  path: string,
  mode: number,
  atFlags: number,
): void {
  const vd = resolveForChange(ctx, dir, path, atFlags, "fchmodat");
  const inode = vd.dentry.inode;
  if (!isOwnerOrRoot(ctx.creds, inode)) {
    throw new SyscallError(Errno.EPERM);
  }
  let permissions = mode & S_IALLUGO;
  if (!ctx.creds.isRoot && !ctx.creds.inGroup(inode.gid)) {
    permissions &= ~S_ISGID;
  }
  inode.setattr({ mode: permissions });
}

/**
 * Implements fchownat(2) (and chown, lchown, fchown). An ID of -1 leaves it
 * unchanged. Only root may change the owner. The owner may change the group
 * to one of its own groups. Other changes fail with EPERM. A changed
 * non-directory loses S_ISUID, and S_ISGID when it has group execute.
 */
export function chownAt(
  ctx: FsContext,
  dir: FileDescription | undefined,
  path: string,
  uid: number,
  gid: number,
  atFlags: number,
): void {
  const vd = resolveForChange(ctx, dir, path, atFlags, "fchownat");
  const inode = vd.dentry.inode;
  const creds = ctx.creds;
  const attr: SetAttr = {};
  if (uid !== -1) {
    if (!creds.isRoot && uid !== inode.uid) {
      throw new SyscallError(Errno.EPERM);
    }
    attr.uid = uid;
  }
  if (gid !== -1) {
    if (!creds.isRoot && (creds.uid !== inode.uid || !creds.inGroup(gid))) {
      throw new SyscallError(Errno.EPERM);
    }
    attr.gid = gid;
  }

  if ((inode.mode & S_IFMT) !== S_IFDIR && (uid !== -1 || gid !== -1)) {
    let mode = inode.mode & ~S_ISUID;
    if ((mode & 0o010) !== 0) {
      mode &= ~S_ISGID;
    }
    if (mode !== inode.mode) {
      attr.mode = mode;
    }
  }
  inode.setattr(attr);
}

/**
 * Implements utimensat(2). `times` is [atime, mtime], each a Timespec whose
 * nsec may be UTIME_NOW or UTIME_OMIT, or undefined for "both now". Setting
 * times to now needs ownership, root or write permission (EACCES). Setting
 * an explicit time needs ownership or root (EPERM).
 */
export function utimensAt(
  ctx: FsContext,
  dir: FileDescription | undefined,
  path: string,
  times: readonly [Timespec, Timespec] | undefined,
  atFlags: number,
): void {
  const [atime, mtime] = times ?? [
    { sec: 0, nsec: UTIME_NOW },
    { sec: 0, nsec: UTIME_NOW },
  ];
  for (const time of [atime, mtime]) {
    const special = time.nsec === UTIME_NOW || time.nsec === UTIME_OMIT;
    if (!special && (time.nsec < 0 || time.nsec > 999_999_999)) {
      throw new SyscallError(Errno.EINVAL, `invalid nanoseconds ${time.nsec}`);
    }
  }
  if (atime.nsec === UTIME_OMIT && mtime.nsec === UTIME_OMIT) {
    return;
  }

  const vd = resolveForChange(ctx, dir, path, atFlags, "utimensat");
  const inode = vd.dentry.inode;
  const setsExplicitTime = [atime, mtime].some((time) => time.nsec !== UTIME_NOW && time.nsec !== UTIME_OMIT);
  if (!isOwnerOrRoot(ctx.creds, inode)) {
    if (setsExplicitTime) {
      throw new SyscallError(Errno.EPERM);
    }
    if (!mayAccess(ctx.creds, inode, W_OK)) {
      throw new SyscallError(Errno.EACCES);
    }
  }

  const now = timespecNow();
  const attr: SetAttr = {};
  if (atime.nsec !== UTIME_OMIT) {
    attr.atime = atime.nsec === UTIME_NOW ? now : { sec: atime.sec, nsec: atime.nsec };
  }
  if (mtime.nsec !== UTIME_OMIT) {
    attr.mtime = mtime.nsec === UTIME_NOW ? now : { sec: mtime.sec, nsec: mtime.nsec };
  }
  inode.setattr(attr);
}

/**
 * Implements truncate(2): EISDIR for a directory, EINVAL for other
 * non-regular files or a negative size, EACCES without write permission.
 */
export function truncateAt(ctx: FsContext, dir: FileDescription | undefined, path: string, size: number): void {
  if (size < 0 || !Number.isSafeInteger(size)) {
    throw new SyscallError(Errno.EINVAL, `invalid size ${size}`);
  }
  const vd = resolveTarget(ctx, dir, path, 0);
  const inode = vd.dentry.inode;
  const type = inode.mode & S_IFMT;
  if (type === S_IFDIR) {
    throw new SyscallError(Errno.EISDIR);
  }
  if (type !== S_IFREG) {
    throw new SyscallError(Errno.EINVAL);
  }
  checkWritable(vd);
  checkAccess(ctx.creds, inode, W_OK);
  inode.setattr({ size });
}
