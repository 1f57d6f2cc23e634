import { Errno, SyscallError } from "@sandbox/abi";
import {
  AT_EMPTY_PATH,
  AT_REMOVEDIR,
  AT_SYMLINK_FOLLOW,
  PATH_MAX,
  RENAME_EXCHANGE,
  RENAME_NOREPLACE,
  S_IALLUGO,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFMT,
  S_IFREG,
  S_IFSOCK,
  S_ISGID,
  S_ISVTX,
  W_OK,
  X_OK,
} from "../constants";
import { Dentry, type VirtualDentry } from "../Dentry";
import type { FileDescription } from "../FileDescription";
import type { Inode } from "../FileSystem";
import { checkAccess, checkSticky } from "../permission";
import type { ParentAndName, PathResolver } from "../PathResolver";
import {
  checkFlags,
  checkMountWritable,
  type FsContext,
  isDirectory,
  isNormalName,
  newResolver,
  ownerOfNewInode,
  resolveAt,
  startOf,
} from "./context";

function resolveParentAt(
  ctx: FsContext,
  resolver: PathResolver,
  dir: FileDescription | undefined,
  path: string,
): ParentAndName {
  const start = path.startsWith("/") ? ctx.root : startOf(ctx, dir);
  return resolver.resolveParent(start, path);
}

/**
 * Checks that a new name can be created, in the order of Linux's
 * filename_create. It throws EEXIST for ".", "..", "/" or a name that
 * exists. A missing name with a trailing slash gets ENOENT unless a
 * directory is being made. EROFS comes next, then EACCES without write and
 * search permission on the parent.
 */
function prepareCreate(
  ctx: FsContext,
  resolver: PathResolver,
  dir: FileDescription | undefined,
  path: string,
  makingDirectory: boolean,
): ParentAndName {
  const target = resolveParentAt(ctx, resolver, dir, path);
  if (!isNormalName(target.name)) {
    throw new SyscallError(Errno.EEXIST);
  }
  if (resolver.lookupChild(target.parent, target.name) !== undefined) {
    throw new SyscallError(Errno.EEXIST);
  }
  if (target.trailingSlash && !makingDirectory) {
    throw new SyscallError(Errno.ENOENT);
  }
  checkMountWritable(target.parent);
  checkAccess(ctx.creds, target.parent.dentry.inode, W_OK | X_OK);
  return target;
}

/** Implements mkdirat(2). */
export function mkdirAt(ctx: FsContext, dir: FileDescription | undefined, path: string, mode: number): void {
  const resolver = newResolver(ctx);
  const { parent, name } = prepareCreate(ctx, resolver, dir, path, true);
  const parentInode = parent.dentry.inode;
  let permissions = mode & (0o777 | S_ISVTX) & ~ctx.umask;
  if ((parentInode.mode & S_ISGID) !== 0) {
    permissions |= S_ISGID;
  }
  const inode = parentInode.mkdir(name, permissions, ownerOfNewInode(ctx, parentInode));
  parent.dentry.insert(name, inode);
}

/**
 * Implements mknodat(2) for regular files, FIFOs, sockets and device nodes.
 * A file type of 0 means a regular file. Device nodes need root (EPERM).
 */
export function mknodAt(
  ctx: FsContext,
  dir: FileDescription | undefined,
  path: string,
  mode: number,
  rdev: number,
): void {
  let type = mode & S_IFMT;
  if (type === 0) {
    type = S_IFREG;
  }
  switch (type) {
    case S_IFREG:
    case S_IFIFO:
    case S_IFSOCK:
      break;
    case S_IFCHR:
    case S_IFBLK:
      if (!ctx.creds.isRoot) {
        throw new SyscallError(Errno.EPERM, "creating a device node needs root");
      }
      break;
    case S_IFDIR:
      throw new SyscallError(Errno.EPERM, "mknod cannot make directories; use mkdir");
    default:
      throw new SyscallError(Errno.EINVAL, `invalid file type 0o${type.toString(8)}`);
  }

  const resolver = newResolver(ctx);
  const { parent, name } = prepareCreate(ctx, resolver, dir, path, false);
  const parentInode = parent.dentry.inode;
  const permissions = mode & S_IALLUGO & ~ctx.umask;
  const inode = parentInode.mknod(name, type | permissions, rdev, ownerOfNewInode(ctx, parentInode));
  parent.dentry.insert(name, inode);
}

/** Implements symlinkat(2): creates `path` as a symbolic link to `target`. */
export function symlinkAt(ctx: FsContext, target: string, dir: FileDescription | undefined, path: string): void {
  if (target.length === 0) {
    throw new SyscallError(Errno.ENOENT, "empty symbolic link target");
  }
  if (target.length >= PATH_MAX) {
    throw new SyscallError(Errno.ENAMETOOLONG, `symbolic link target of ${target.length} bytes`);
  }
  const resolver = newResolver(ctx);
  const { parent, name } = prepareCreate(ctx, resolver, dir, path, false);
  const parentInode = parent.dentry.inode;
  const inode = parentInode.symlink(name, target, ownerOfNewInode(ctx, parentInode));
  parent.dentry.insert(name, inode);
}

/**
 * Implements linkat(2). `atFlags` may hold AT_SYMLINK_FOLLOW (follow a
 * symbolic link in the old path) and AT_EMPTY_PATH (link `oldDir` itself).
 */
export function linkAt(
  ctx: FsContext,
  oldDir: FileDescription | undefined,
  oldPath: string,
  newDir: FileDescription | undefined,
  newPath: string,
  atFlags: number,
): void {
  checkFlags(atFlags, AT_SYMLINK_FOLLOW | AT_EMPTY_PATH, "linkat");
  const resolver = newResolver(ctx);
  const old = resolveAt(ctx, resolver, oldDir, oldPath, atFlags, (atFlags & AT_SYMLINK_FOLLOW) !== 0);
  const { parent, name } = prepareCreate(ctx, resolver, newDir, newPath, false);

  const inode = old.dentry.inode;
  if (isDirectory(inode)) {
    throw new SyscallError(Errno.EPERM, "hard links to directories are not allowed");
  }
  if (old.mount !== parent.mount) {
    throw new SyscallError(Errno.EXDEV);
  }
  if (old.dentry.deleted && inode.stat().nlink === 0) {
    throw new SyscallError(Errno.ENOENT);
  }
  parent.dentry.inode.link(name, inode);
  parent.dentry.insert(name, inode);
}

/**
 * Implements unlinkat(2). With AT_REMOVEDIR in `atFlags` it removes a
 * directory as rmdir(2) does.
 */
export function unlinkAt(ctx: FsContext, dir: FileDescription | undefined, path: string, atFlags: number): void {
  checkFlags(atFlags, AT_REMOVEDIR, "unlinkat");
  if (atFlags !== 0) {
    rmdirAt(ctx, dir, path);
    return;
  }

  const resolver = newResolver(ctx);
  const { parent, name, trailingSlash } = resolveParentAt(ctx, resolver, dir, path);
  if (!isNormalName(name)) {
    throw new SyscallError(Errno.EISDIR);
  }
  checkMountWritable(parent);
  const child = resolver.lookupChild(parent, name);
  if (child === undefined) {
    throw new SyscallError(Errno.ENOENT);
  }
  if (trailingSlash) {
    throw new SyscallError(child.dentry.isDirectory ? Errno.EISDIR : Errno.ENOTDIR);
  }
  checkRemove(ctx, parent, child);
  if (child.dentry.isDirectory) {
    throw new SyscallError(Errno.EISDIR);
  }
  checkNotMountpoint(child);
  parent.dentry.inode.unlink(name);
  parent.dentry.remove(name);
}

/** Implements rmdir(2) at a path relative to `dir`. */
export function rmdirAt(ctx: FsContext, dir: FileDescription | undefined, path: string): void {
  const resolver = newResolver(ctx);
  const { parent, name } = resolveParentAt(ctx, resolver, dir, path);
  if (name === ".") {
    throw new SyscallError(Errno.EINVAL);
  }
  if (name === "..") {
    throw new SyscallError(Errno.ENOTEMPTY);
  }
  if (name === "") {
    throw new SyscallError(Errno.EBUSY);
  }
  checkMountWritable(parent);
  const child = resolver.lookupChild(parent, name);
  if (child === undefined) {
    throw new SyscallError(Errno.ENOENT);
  }
  checkRemove(ctx, parent, child);
  if (!child.dentry.isDirectory) {
    throw new SyscallError(Errno.ENOTDIR);
  }
  checkNotMountpoint(child);
  parent.dentry.inode.rmdir(name);
  parent.dentry.remove(name);
}

/**
 * Implements renameat2(2). `flags` may be RENAME_NOREPLACE or
 * RENAME_EXCHANGE. NOTE: RENAME_WHITEOUT is rejected with EINVAL, because
 * no file system here stores whiteouts yet.
 */
export function renameAt(
  ctx: FsContext,
  oldDir: FileDescription | undefined,
  oldPath: string,
  newDir: FileDescription | undefined,
  newPath: string,
  flags: number,
): void {
  checkFlags(flags, RENAME_NOREPLACE | RENAME_EXCHANGE, "renameat2");
  if ((flags & RENAME_NOREPLACE) !== 0 && (flags & RENAME_EXCHANGE) !== 0) {
    throw new SyscallError(Errno.EINVAL, "RENAME_NOREPLACE with RENAME_EXCHANGE");
  }

  const resolver = newResolver(ctx);
  const from = resolveParentAt(ctx, resolver, oldDir, oldPath);
  const to = resolveParentAt(ctx, resolver, newDir, newPath);
  if (from.parent.mount !== to.parent.mount) {
    throw new SyscallError(Errno.EXDEV);
  }
  if (!isNormalName(from.name) || !isNormalName(to.name)) {
    throw new SyscallError(Errno.EBUSY);
  }
  checkMountWritable(from.parent);

  const source = resolver.lookupChild(from.parent, from.name);
  if (source === undefined) {
    throw new SyscallError(Errno.ENOENT);
  }
  const target = resolver.lookupChild(to.parent, to.name);
  const exchange = (flags & RENAME_EXCHANGE) !== 0;
  if (target === undefined && exchange) {
    throw new SyscallError(Errno.ENOENT);
  }
  if (target !== undefined && (flags & RENAME_NOREPLACE) !== 0) {
    throw new SyscallError(Errno.EEXIST);
  }
  const sourceIsDirectory = source.dentry.isDirectory;
  const targetIsDirectory = target?.dentry.isDirectory ?? false;
  if ((!sourceIsDirectory && from.trailingSlash) || (!(exchange ? targetIsDirectory : sourceIsDirectory) && to.trailingSlash)) {
    throw new SyscallError(Errno.ENOTDIR);
  }
  if (target !== undefined && sameInode(source.dentry.inode, target.dentry.inode)) {
    return;
  }

  checkRemove(ctx, from.parent, source);
  if (target !== undefined) {
    checkRemove(ctx, to.parent, target);
  } else {
    checkAccess(ctx.creds, to.parent.dentry.inode, W_OK | X_OK);
  }
  if (target !== undefined && !exchange) {
    if (sourceIsDirectory && !targetIsDirectory) {
      throw new SyscallError(Errno.ENOTDIR);
    }
    if (!sourceIsDirectory && targetIsDirectory) {
      throw new SyscallError(Errno.EISDIR);
    }
  }
  if (sourceIsDirectory && to.parent.dentry.isDescendantOf(source.dentry)) {
    throw new SyscallError(Errno.EINVAL, "cannot move a directory into itself");
  }
  if (exchange && targetIsDirectory && target !== undefined && from.parent.dentry.isDescendantOf(target.dentry)) {
    throw new SyscallError(Errno.EINVAL, "cannot move a directory into itself");
  }
  checkNotMountpoint(source);
  if (target !== undefined) {
    checkNotMountpoint(target);
  }

  from.parent.dentry.inode.rename(from.name, to.parent.dentry.inode, to.name, flags);
  if (exchange && target !== undefined) {
    Dentry.exchange(source.dentry, target.dentry);
  } else {
    source.dentry.moveTo(to.parent.dentry, to.name);
  }
}

/** Checks write and search permission on `parent` and the sticky bit before `child` is removed. */
function checkRemove(ctx: FsContext, parent: VirtualDentry, child: VirtualDentry): void {
  const parentInode = parent.dentry.inode;
  checkAccess(ctx.creds, parentInode, W_OK | X_OK);
  if ((parentInode.mode & S_ISVTX) !== 0) {
    checkSticky(ctx.creds, parentInode, child.dentry.inode);
  }
}

/** Throws EBUSY if something is mounted on `vd` or `vd` is the root of a mount. */
function checkNotMountpoint(vd: VirtualDentry): void {
  if (vd.dentry.mountCount > 0 || vd.dentry === vd.mount.root) {
    throw new SyscallError(Errno.EBUSY);
  }
}

function sameInode(a: Inode, b: Inode): boolean {
  return a === b || (a.fs === b.fs && a.ino === b.ino);
}
