import { Errno, SyscallError } from "@sandbox/abi";
import { Credentials, type FileDescription, type FsContext } from "@sandbox/vfs";
import type { Task } from "../kernel/task";
import { readByteString } from "../kernel/user-memory";
import type { SyscallGroup } from "./registry";
import { statBytes, statxBytes } from "./stat-encoding";

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_EACCESS = 0x200;
const AT_REMOVEDIR = 0x200;
const AT_SYMLINK_FOLLOW = 0x400;
const AT_NO_AUTOMOUNT = 0x800;
const AT_EMPTY_PATH = 0x1000;
const AT_STATX_SYNC_TYPE = 0x6000;
const O_CREAT = 0o100;
const O_WRONLY = 0o1;
const O_TRUNC = 0o1000;
const O_LARGEFILE = 0o100000;
const O_CLOEXEC = 0o2000000;
const ACCESS_MODE_MASK = 7;

function ctxOf(task: Task): FsContext {
  return task.threadGroup.fs;
}

/** Returns the description of dirfd for an *at call, undefined for AT_FDCWD. */
function dirOf(task: Task, dirfd: number): FileDescription | undefined {
  return dirfd === AT_FDCWD ? undefined : task.fdTable.get(dirfd);
}

function pathArg(task: Task, index: number): string {
  return readByteString(task.mm, task.numberArg(index));
}

/** Opens `path` and installs the description; shared by open, openat and creat. */
function openPath(task: Task, dirfd: number, path: string, flags: number, mode: number): number {
  const file = task.kernel.options.vfs.openAt(ctxOf(task), dirOf(task, dirfd), path, flags | O_LARGEFILE, mode & 0o7777);
  return task.fdTable.install(file, { closeOnExec: (flags & O_CLOEXEC) !== 0 });
}

/** open(2). */
const open = (task: Task) => openPath(task, AT_FDCWD, pathArg(task, 0), task.intArg(1), task.intArg(2));
/** openat(2). */
const openat = (task: Task) => openPath(task, task.intArg(0), pathArg(task, 1), task.intArg(2), task.intArg(3));
/** creat(2). */
const creat = (task: Task) => openPath(task, AT_FDCWD, pathArg(task, 0), O_CREAT | O_WRONLY | O_TRUNC, task.intArg(1));

/** openat2(2): struct open_how { flags, mode, resolve }. NOTE: RESOLVE_* restrictions other than none are rejected with EINVAL. */
function openat2(task: Task): number {
  const size = task.numberArg(3);
  if (size < 24) throw new SyscallError(Errno.EINVAL);
  const how = new DataView(task.mm.copyIn(task.numberArg(2), 24).buffer);
  const flags = Number(how.getBigUint64(0, true));
  const mode = Number(how.getBigUint64(8, true));
  if (how.getBigUint64(16, true) !== 0n) throw new SyscallError(Errno.EINVAL, "RESOLVE_* flags are not supported");
  return openPath(task, task.intArg(0), pathArg(task, 1), flags, mode);
}

function statPath(task: Task, dirfd: number, path: string, atFlags: number, addr: number): number {
  const stat = task.kernel.options.vfs.statAt(ctxOf(task), dirOf(task, dirfd), path, atFlags);
  task.mm.copyOut(addr, statBytes(stat));
  return 0;
}

/** stat(2). */
const stat = (task: Task) => statPath(task, AT_FDCWD, pathArg(task, 0), 0, task.numberArg(1));
/** lstat(2). */
const lstat = (task: Task) => statPath(task, AT_FDCWD, pathArg(task, 0), AT_SYMLINK_NOFOLLOW, task.numberArg(1));

/** newfstatat(2). */
function newfstatat(task: Task): number {
  const flags = task.intArg(3);
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT)) !== 0) throw new SyscallError(Errno.EINVAL);
  return statPath(task, task.intArg(0), pathArg(task, 1), flags, task.numberArg(2));
}

/** statx(2): the basic statistics. */
function statx(task: Task): number {
  const flags = task.intArg(2);
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE)) !== 0) {
    throw new SyscallError(Errno.EINVAL);
  }
  if ((flags & AT_STATX_SYNC_TYPE) === AT_STATX_SYNC_TYPE) throw new SyscallError(Errno.EINVAL);
  const result = task.kernel.options.vfs.statAt(ctxOf(task), dirOf(task, task.intArg(0)), pathArg(task, 1), flags);
  task.mm.copyOut(task.numberArg(4), statxBytes(result));
  return 0;
}

/** Checks access for faccessat2's rules: real IDs unless AT_EACCESS. */
function accessPath(task: Task, dirfd: number, path: string, mode: number, flags: number): number {
  if ((mode & ~ACCESS_MODE_MASK) !== 0) throw new SyscallError(Errno.EINVAL);
  if ((flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) !== 0) throw new SyscallError(Errno.EINVAL);
  let ctx = ctxOf(task);
  if ((flags & AT_EACCESS) === 0) {
    const creds = task.credentials;
    ctx = { ...ctx, creds: new Credentials(creds.uid, creds.gid, creds.groups) };
  }
  task.kernel.options.vfs.accessAt(ctx, dirOf(task, dirfd), path, mode, flags & ~AT_EACCESS);
  return 0;
}

/** access(2). */
const access = (task: Task) => accessPath(task, AT_FDCWD, pathArg(task, 0), task.intArg(1), 0);
/** faccessat(2). */
const faccessat = (task: Task) => accessPath(task, task.intArg(0), pathArg(task, 1), task.intArg(2), 0);
/** faccessat2(2). */
const faccessat2 = (task: Task) => accessPath(task, task.intArg(0), pathArg(task, 1), task.intArg(2), task.intArg(3));

/** Copies a readlink result into the buffer, truncated to the buffer size as Linux does. */
function copyLink(task: Task, target: string, addr: number, size: number): number {
  if (size <= 0) throw new SyscallError(Errno.EINVAL);
  const bytes = Buffer.from(target, "latin1").subarray(0, Math.min(size, 4096));
  task.mm.copyOut(addr, bytes);
  return bytes.length;
}

function readlinkPath(task: Task, dirfd: number, path: string, addr: number, size: number): number {
  const target = task.kernel.readlink(task, dirOf(task, dirfd), path);
  return copyLink(task, target, addr, size);
}

/** readlink(2). */
const readlink = (task: Task) => readlinkPath(task, AT_FDCWD, pathArg(task, 0), task.numberArg(1), task.intArg(2));
/** readlinkat(2). */
const readlinkat = (task: Task) => readlinkPath(task, task.intArg(0), pathArg(task, 1), task.numberArg(2), task.intArg(3));

/** getcwd(2). */
function getcwd(task: Task): number {
  const path = Buffer.from(`${task.kernel.options.vfs.getcwd(ctxOf(task))}\0`, "latin1");
  if (task.numberArg(1) < path.length) throw new SyscallError(Errno.ERANGE);
  task.mm.copyOut(task.numberArg(0), path);
  return path.length;
}

/** chdir(2). */
function chdir(task: Task): number {
  const ctx = ctxOf(task);
  ctx.cwd = task.kernel.options.vfs.resolveDirectory(ctx, undefined, pathArg(task, 0));
  return 0;
}

/** fchdir(2). */
function fchdir(task: Task): number {
  const ctx = ctxOf(task);
  ctx.cwd = task.kernel.options.vfs.resolveDirectory(ctx, task.fdTable.get(task.intArg(0)), "", AT_EMPTY_PATH);
  return 0;
}

/** mkdir(2). */
function mkdir(task: Task): number {
  task.kernel.options.vfs.mkdirAt(ctxOf(task), undefined, pathArg(task, 0), task.intArg(1));
  return 0;
}

/** mkdirat(2). */
function mkdirat(task: Task): number {
  task.kernel.options.vfs.mkdirAt(ctxOf(task), dirOf(task, task.intArg(0)), pathArg(task, 1), task.intArg(2));
  return 0;
}

/** mknodat(2). */
function mknodat(task: Task): number {
  task.kernel.options.vfs.mknodAt(ctxOf(task), dirOf(task, task.intArg(0)), pathArg(task, 1), task.intArg(2), task.numberArg(3));
  return 0;
}

/** mknod(2). */
function mknod(task: Task): number {
  task.kernel.options.vfs.mknodAt(ctxOf(task), undefined, pathArg(task, 0), task.intArg(1), task.numberArg(2));
  return 0;
}

/** unlink(2). */
function unlink(task: Task): number {
  task.kernel.options.vfs.unlinkAt(ctxOf(task), undefined, pathArg(task, 0));
  return 0;
}

/** unlinkat(2). */
function unlinkat(task: Task): number {
  const flags = task.intArg(2);
  if ((flags & ~AT_REMOVEDIR) !== 0) throw new SyscallError(Errno.EINVAL);
  const dir = dirOf(task, task.intArg(0));
  const path = pathArg(task, 1);
  if ((flags & AT_REMOVEDIR) !== 0) task.kernel.options.vfs.rmdirAt(ctxOf(task), dir, path);
  else task.kernel.options.vfs.unlinkAt(ctxOf(task), dir, path);
  return 0;
}

/** rmdir(2). */
function rmdir(task: Task): number {
  task.kernel.options.vfs.rmdirAt(ctxOf(task), undefined, pathArg(task, 0));
  return 0;
}

/** rename(2). */
function rename(task: Task): number {
  task.kernel.options.vfs.renameAt(ctxOf(task), undefined, pathArg(task, 0), undefined, pathArg(task, 1), 0);
  return 0;
}

/** renameat(2). */
function renameat(task: Task): number {
  const vfs = task.kernel.options.vfs;
  vfs.renameAt(ctxOf(task), dirOf(task, task.intArg(0)), pathArg(task, 1), dirOf(task, task.intArg(2)), pathArg(task, 3), 0);
  return 0;
}

/** renameat2(2). */
function renameat2(task: Task): number {
  const vfs = task.kernel.options.vfs;
  vfs.renameAt(ctxOf(task), dirOf(task, task.intArg(0)), pathArg(task, 1), dirOf(task, task.intArg(2)), pathArg(task, 3), task.intArg(4));
  return 0;
}

/** symlink(2). */
function symlink(task: Task): number {
  task.kernel.options.vfs.symlinkAt(ctxOf(task), pathArg(task, 0), undefined, pathArg(task, 1));
  return 0;
}

/** symlinkat(2). */
function symlinkat(task: Task): number {
  task.kernel.options.vfs.symlinkAt(ctxOf(task), pathArg(task, 0), dirOf(task, task.intArg(1)), pathArg(task, 2));
  return 0;
}

/** link(2). */
function link(task: Task): number {
  task.kernel.options.vfs.linkAt(ctxOf(task), undefined, pathArg(task, 0), undefined, pathArg(task, 1), 0);
  return 0;
}

/** linkat(2). */
function linkat(task: Task): number {
  const flags = task.intArg(4);
  if ((flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) !== 0) throw new SyscallError(Errno.EINVAL);
  const vfs = task.kernel.options.vfs;
  vfs.linkAt(ctxOf(task), dirOf(task, task.intArg(0)), pathArg(task, 1), dirOf(task, task.intArg(2)), pathArg(task, 3), flags);
  return 0;
}

/** chmod(2). */
function chmod(task: Task): number {
  task.kernel.options.vfs.chmodAt(ctxOf(task), undefined, pathArg(task, 0), task.intArg(1));
  return 0;
}

/** fchmod(2). */
function fchmod(task: Task): number {
  task.kernel.options.vfs.chmodAt(ctxOf(task), task.fdTable.get(task.intArg(0)), "", task.intArg(1), AT_EMPTY_PATH);
  return 0;
}

/** fchmodat(2). */
function fchmodat(task: Task): number {
  task.kernel.options.vfs.chmodAt(ctxOf(task), dirOf(task, task.intArg(0)), pathArg(task, 1), task.intArg(2));
  return 0;
}

function chownPath(task: Task, dir: FileDescription | undefined, path: string, uidIndex: number, flags: number): number {
  const uid = task.intArg(uidIndex);
  const gid = task.intArg(uidIndex + 1);
  task.kernel.options.vfs.chownAt(ctxOf(task), dir, path, uid === -1 ? -1 : uid >>> 0, gid === -1 ? -1 : gid >>> 0, flags);
  return 0;
}

/** chown(2). */
const chown = (task: Task) => chownPath(task, undefined, pathArg(task, 0), 1, 0);
/** lchown(2). */
const lchown = (task: Task) => chownPath(task, undefined, pathArg(task, 0), 1, AT_SYMLINK_NOFOLLOW);
/** fchown(2). */
const fchown = (task: Task) => chownPath(task, task.fdTable.get(task.intArg(0)), "", 1, AT_EMPTY_PATH);
/** fchownat(2). */
const fchownat = (task: Task) => chownPath(task, dirOf(task, task.intArg(0)), pathArg(task, 1), 2, task.intArg(4));

/** utimensat(2); a NULL path changes the file of dirfd itself. UTIME_NOW and UTIME_OMIT are handled by the VFS. */
function utimensat(task: Task): number {
  const dirfd = task.intArg(0);
  const pathAddr = task.numberArg(1);
  const timesAddr = task.numberArg(2);
  let flags = task.intArg(3);
  let times: [{ sec: number; nsec: number }, { sec: number; nsec: number }] | undefined;
  if (timesAddr !== 0) {
    const view = new DataView(task.mm.copyIn(timesAddr, 32).buffer);
    const decode = (offset: number) => ({ sec: Number(view.getBigInt64(offset, true)), nsec: Number(view.getBigInt64(offset + 8, true)) });
    times = [decode(0), decode(16)];
  }
  let path = "";
  if (pathAddr === 0) flags |= AT_EMPTY_PATH;
  else path = readByteString(task.mm, pathAddr);
  task.kernel.options.vfs.utimensAt(ctxOf(task), dirOf(task, dirfd), path, times, flags);
  return 0;
}

/** truncate(2). */
function truncate(task: Task): number {
  task.kernel.options.vfs.truncateAt(ctxOf(task), undefined, pathArg(task, 0), Number(BigInt.asIntN(64, task.arg(1))));
  return 0;
}

/** Fills struct statfs (120 bytes) for a file system of type `magic`. NOTE: sizes are fixed estimates, not measured. */
function statfsBytes(magic: number): Uint8Array {
  const bytes = new Uint8Array(120);
  const view = new DataView(bytes.buffer);
  view.setBigInt64(0, BigInt(magic), true); // f_type
  view.setBigInt64(8, 4096n, true); // f_bsize
  view.setBigUint64(16, 1n << 24n, true); // f_blocks
  view.setBigUint64(24, 1n << 23n, true); // f_bfree
  view.setBigUint64(32, 1n << 23n, true); // f_bavail
  view.setBigUint64(40, 1n << 20n, true); // f_files
  view.setBigUint64(48, 1n << 19n, true); // f_ffree
  view.setBigInt64(64, 255n, true); // f_namelen
  view.setBigInt64(72, 4096n, true); // f_frsize
  return bytes;
}

const TMPFS_MAGIC = 0x01021994;

/** statfs(2). */
function statfs(task: Task): number {
  task.kernel.options.vfs.statAt(ctxOf(task), undefined, pathArg(task, 0));
  task.mm.copyOut(task.numberArg(1), statfsBytes(TMPFS_MAGIC));
  return 0;
}

/** fstatfs(2). */
function fstatfs(task: Task): number {
  task.fdTable.get(task.intArg(0));
  task.mm.copyOut(task.numberArg(1), statfsBytes(TMPFS_MAGIC));
  return 0;
}

const ENOTSUP = 95;

/** getxattr(2), lgetxattr(2): the path must exist; no file carries extended attributes (ENODATA). */
function getxattrPath(task: Task, atFlags: number): number {
  task.kernel.options.vfs.statAt(ctxOf(task), undefined, pathArg(task, 0), atFlags);
  readByteString(task.mm, task.numberArg(1), 256);
  throw new SyscallError(Errno.ENODATA);
}

/** fgetxattr(2). */
function fgetxattr(task: Task): number {
  task.fdTable.get(task.intArg(0));
  readByteString(task.mm, task.numberArg(1), 256);
  throw new SyscallError(Errno.ENODATA);
}

/** listxattr(2), llistxattr(2): an empty list. */
function listxattrPath(task: Task, atFlags: number): number {
  task.kernel.options.vfs.statAt(ctxOf(task), undefined, pathArg(task, 0), atFlags);
  return 0;
}

/** flistxattr(2): an empty list. */
function flistxattr(task: Task): number {
  task.fdTable.get(task.intArg(0));
  return 0;
}

/** setxattr(2) and removexattr(2) families. NOTE: extended attributes are not stored; setting one fails with ENOTSUP. */
function setxattrUnsupported(): number {
  throw new SyscallError(ENOTSUP);
}

/** The path-based file system calls. */
export const fsSyscalls: SyscallGroup = {
  open,
  openat,
  openat2,
  creat,
  stat,
  lstat,
  newfstatat,
  statx,
  access,
  faccessat,
  faccessat2,
  readlink,
  readlinkat,
  getcwd,
  chdir,
  fchdir,
  mkdir,
  mkdirat,
  mknod,
  mknodat,
  unlink,
  unlinkat,
  rmdir,
  rename,
  renameat,
  renameat2,
  symlink,
  symlinkat,
  link,
  linkat,
  chmod,
  fchmod,
  fchmodat,
  chown,
  lchown,
  fchown,
  fchownat,
  utimensat,
  truncate,
  statfs,
  fstatfs,
  getxattr: (task: Task) => getxattrPath(task, 0),
  lgetxattr: (task: Task) => getxattrPath(task, AT_SYMLINK_NOFOLLOW),
  fgetxattr,
  listxattr: (task: Task) => listxattrPath(task, 0),
  llistxattr: (task: Task) => listxattrPath(task, AT_SYMLINK_NOFOLLOW),
  flistxattr,
  setxattr: setxattrUnsupported,
  lsetxattr: setxattrUnsupported,
  fsetxattr: setxattrUnsupported,
  removexattr: setxattrUnsupported,
  lremovexattr: setxattrUnsupported,
  fremovexattr: setxattrUnsupported,
};
