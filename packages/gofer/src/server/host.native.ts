// Host file calls of the gofer that Node's fs module lacks: calls relative
// to a directory descriptor (openat2, mkdirat, renameat2, ...), calls on an
// O_PATH descriptor with AT_EMPTY_PATH, getdents64 and fstatfs, and the
// process calls of the gofer's start (prctl, setsid, getppid). Bound through
// koffi. Every function takes descriptors, NUL-terminated name bytes and
// typed arrays, and returns a result or a negative errno.
import koffi from "koffi";

const libc = koffi.load("libc.so.6");

// syscall(2) is variadic, but a fixed prototype is fine on x86-64, because
// glibc's syscall() moves its integer arguments into place unchanged.
const openat2Native = libc.func("long syscall(long nr, int dirfd, const uint8_t *path, const uint8_t *how, size_t size)");
const mkdiratNative = libc.func("int mkdirat(int dirfd, const uint8_t *path, uint32_t mode)");
const symlinkatNative = libc.func("int symlinkat(const uint8_t *target, int dirfd, const uint8_t *path)");
const linkatNative = libc.func(
  "int linkat(int olddirfd, const char *oldpath, int newdirfd, const uint8_t *newpath, int flags)",
);
const unlinkatNative = libc.func("int unlinkat(int dirfd, const uint8_t *path, int flags)");
const renameat2Native = libc.func(
  "int renameat2(int olddirfd, const uint8_t *oldpath, int newdirfd, const uint8_t *newpath, uint32_t flags)",
);
const readlinkatNative = libc.func("long readlinkat(int dirfd, const char *path, _Out_ uint8_t *buf, size_t size)");
const readlinkAtBytesNative = libc.func("long readlinkat(int dirfd, const uint8_t *path, _Out_ uint8_t *buf, size_t size)");
const fchownatNative = libc.func("int fchownat(int dirfd, const char *path, uint32_t uid, uint32_t gid, int flags)");
const utimensatNative = libc.func("int utimensat(int dirfd, const char *path, const int64_t *times, int flags)");
const getdents64Native = libc.func("long getdents64(int fd, _Out_ uint8_t *buf, size_t size)");
const lseekNative = libc.func("int64_t lseek(int fd, int64_t offset, int whence)");
const fstatfsNative = libc.func("int fstatfs(int fd, _Out_ uint8_t *buf)");
const fstatatNative = libc.func("int fstatat(int dirfd, const uint8_t *path, _Out_ uint8_t *buf, int flags)");
const fstatNative = libc.func("int fstat(int fd, _Out_ uint8_t *buf)");
const prctlNative = libc.func("int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)");
const setsidNative = libc.func("int setsid(void)");
const getppidNative = libc.func("int getppid(void)");

const SYS_openat2 = 437;
const SEEK_SET = 0;
const PR_SET_PDEATHSIG = 1;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_EMPTY_PATH = 0x1000;

/** Size of struct stat on x86-64. */
export const STAT_SIZE = 144;

/**
 * fstatat(2) with AT_SYMLINK_NOFOLLOW of `name` (NUL-terminated bytes, one
 * component) in directory `dirfd`. Leaves the struct stat in `buffer`
 * (STAT_SIZE bytes, laid out as HostStat describes) and returns 0, or returns a
 * negative errno.
 */
export function fstatatNoFollow(dirfd: number, name: Uint8Array, buffer: Uint8Array): number {
  const result = check(fstatatNative(dirfd, name, buffer, AT_SYMLINK_NOFOLLOW));
  return result < 0 ? result : 0;
}

/** fstat(2) of `fd` into `buffer` (STAT_SIZE bytes, laid out as HostStat describes); returns 0 or a negative errno. */
export function fstatFd(fd: number, buffer: Uint8Array): number {
  const result = check(fstatNative(fd, buffer));
  return result < 0 ? result : 0;
}

/** Size of struct statfs on x86-64. */
export const STATFS_SIZE = 120;

/** Offsets of the fields of struct open_how (u64 each). */
const enum OpenHow {
  FLAGS = 0,
  MODE = 8,
  RESOLVE = 16,
  SIZE = 24,
}

/** Returns `result`, or the negated errno when `result` is -1. */
function check(result: number | bigint): number {
  const value = Number(result);
  return value === -1 ? -koffi.errno() : value;
}

/**
 * openat2(2): opens `path` (NUL-terminated bytes) relative to `dirfd` with
 * open flags `flags`, creation mode `mode` and RESOLVE_* flags `resolve`.
 * Returns the descriptor or a negative errno.
 */
export function openat2(dirfd: number, path: Uint8Array, flags: number, mode: number, resolve: number): number {
  const how = new DataView(new ArrayBuffer(OpenHow.SIZE));
  how.setBigUint64(OpenHow.FLAGS, BigInt(flags), true);
  how.setBigUint64(OpenHow.MODE, BigInt(mode), true);
  how.setBigUint64(OpenHow.RESOLVE, BigInt(resolve), true);
  return check(openat2Native(SYS_openat2, dirfd, path, new Uint8Array(how.buffer), OpenHow.SIZE));
}

/** mkdirat(2). Returns 0 or a negative errno. */
export function mkdirat(dirfd: number, name: Uint8Array, mode: number): number {
  return check(mkdiratNative(dirfd, name, mode));
}

/** symlinkat(2): creates `name` in `dirfd` pointing to `target`. Returns 0 or a negative errno. */
export function symlinkat(target: Uint8Array, dirfd: number, name: Uint8Array): number {
  return check(symlinkatNative(target, dirfd, name));
}

/**
 * linkat(2) from a path of the gofer's own (such as /proc/self/fd/N, with
 * AT_SYMLINK_FOLLOW to follow that magic link) to `name` in `dirfd`.
 * Returns 0 or a negative errno.
 */
export function linkat(oldPath: string, newDirfd: number, name: Uint8Array, flags: number): number {
  return check(linkatNative(-100, oldPath, newDirfd, name, flags));
}

/** unlinkat(2). Returns 0 or a negative errno. */
export function unlinkat(dirfd: number, name: Uint8Array, flags: number): number {
  return check(unlinkatNative(dirfd, name, flags));
}

/** renameat2(2). Returns 0 or a negative errno. */
export function renameat2(oldDirfd: number, oldName: Uint8Array, newDirfd: number, newName: Uint8Array, flags: number): number {
  return check(renameat2Native(oldDirfd, oldName, newDirfd, newName, flags));
}

/**
 * readlinkat(2) on the symbolic link that the O_PATH descriptor `fd` refers
 * to. Returns the byte count stored in `buffer` or a negative errno.
 */
export function readlinkFd(fd: number, buffer: Uint8Array): number {
  return check(readlinkatNative(fd, "", buffer, buffer.length));
}

/** readlinkat(2) of `name` (NUL-terminated bytes, one component) in directory `dirfd`: the byte count stored in `buffer`, or a negative errno. */
export function readlinkAt(dirfd: number, name: Uint8Array, buffer: Uint8Array): number {
  return check(readlinkAtBytesNative(dirfd, name, buffer, buffer.length));
}

/**
 * fchownat(2) with AT_EMPTY_PATH on the file that `fd` refers to (an O_PATH
 * descriptor of a symbolic link too). -1 leaves an id unchanged. Returns 0 or
 * a negative errno.
 */
export function fchownFd(fd: number, uid: number, gid: number): number {
  return check(fchownatNative(fd, "", uid >>> 0, gid >>> 0, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW));
}

/**
 * utimensat(2) with AT_EMPTY_PATH on the file that `fd` refers to. `times`
 * holds atime and mtime as (seconds, nanoseconds) pairs. UTIME_OMIT as
 * nanoseconds leaves a time unchanged. Returns 0 or a negative errno.
 */
export function utimensFd(fd: number, times: BigInt64Array): number {
  return check(utimensatNative(fd, "", times, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW));
}

/** getdents64(2): fills `buffer` with struct linux_dirent64 records. Returns the byte count (0 at the end) or a negative errno. */
export function getdents64(fd: number, buffer: Uint8Array): number {
  return check(getdents64Native(fd, buffer, buffer.length));
}

/** lseek(2) with SEEK_SET, for a directory position that getdents64 returned. Returns 0 or a negative errno. */
export function seekDirectory(fd: number, position: bigint): number {
  const result = lseekNative(fd, position, SEEK_SET) as bigint | number;
  return BigInt(result) === -1n ? -koffi.errno() : 0;
}

/** fstatfs(2): fills `buffer` (STATFS_SIZE bytes) with struct statfs. Returns 0 or a negative errno. */
export function fstatfs(fd: number, buffer: Uint8Array): number {
  if (buffer.length < STATFS_SIZE) {
    throw new RangeError(`statfs buffer of ${buffer.length} bytes: expected at least ${STATFS_SIZE}`);
  }
  return check(fstatfsNative(fd, buffer));
}

/** prctl(PR_SET_PDEATHSIG): the kernel sends `signal` to this process when the thread that started it exits. */
export function setParentDeathSignal(signal: number): number {
  return check(prctlNative(PR_SET_PDEATHSIG, signal, 0, 0, 0));
}

/** setsid(2): makes this process the leader of a new session, without a controlling terminal. Returns the session id or a negative errno. */
export function createSession(): number {
  return check(setsidNative());
}

/** getppid(2): the current parent, unlike process.ppid, which Node reads once at start-up. */
export function parentPid(): number {
  return getppidNative() as number;
}
