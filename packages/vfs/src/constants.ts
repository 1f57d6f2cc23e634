// Linux x86-64 values of the flags and limits the VFS works with. They live
// here until @sandbox/abi exports them. The values come from the uapi headers
// asm-generic/fcntl.h, linux/stat.h, linux/fcntl.h, linux/limits.h and
// linux/fs.h.

/** Open for reading only. */
export const O_RDONLY = 0;
/** Open for writing only. */
export const O_WRONLY = 0o1;
/** Open for reading and writing. */
export const O_RDWR = 0o2;
/** Mask of the access mode bits of the open flags. */
export const O_ACCMODE = 0o3;
/** Create the file if it does not exist. */
export const O_CREAT = 0o100;
/** With O_CREAT, fail with EEXIST if the name exists. */
export const O_EXCL = 0o200;
/** Do not make a terminal the controlling terminal. */
export const O_NOCTTY = 0o400;
/** Truncate a regular file to length 0 on open. */
export const O_TRUNC = 0o1000;
/** Every write appends at the end of the file. */
export const O_APPEND = 0o2000;
/** Reads and writes fail with EAGAIN instead of blocking. */
export const O_NONBLOCK = 0o4000;
/** Writes wait until the data reaches the device. */
export const O_DSYNC = 0o10000;
/** Signal-driven I/O (FASYNC). */
export const O_ASYNC = 0o20000;
/** Bypass the page cache. */
export const O_DIRECT = 0o40000;
/** Large file offsets. Always set on 64-bit. */
export const O_LARGEFILE = 0o100000;
/** Fail with ENOTDIR unless the file is a directory. */
export const O_DIRECTORY = 0o200000;
/** Fail with ELOOP if the last component is a symbolic link. */
export const O_NOFOLLOW = 0o400000;
/** Do not update the access time. */
export const O_NOATIME = 0o1000000;
/** Set FD_CLOEXEC on the new descriptor. */
export const O_CLOEXEC = 0o2000000;
/** Writes wait until data and metadata reach the device (includes O_DSYNC). */
export const O_SYNC = 0o4010000;
/** A descriptor that names a file without opening it for I/O. */
export const O_PATH = 0o10000000;
/** An unnamed temporary file in the given directory (includes O_DIRECTORY). */
export const O_TMPFILE = 0o20200000;

/** Status flags that fcntl(F_SETFL) may change after open. */
export const SETFL_MASK = O_APPEND | O_ASYNC | O_DIRECT | O_NOATIME | O_NONBLOCK;

/** Mask of the file type bits of a mode. */
export const S_IFMT = 0o170000;
/** Socket. */
export const S_IFSOCK = 0o140000;
/** Symbolic link. */
export const S_IFLNK = 0o120000;
/** Regular file. */
export const S_IFREG = 0o100000;
/** Block device. */
export const S_IFBLK = 0o60000;
/** Directory. */
export const S_IFDIR = 0o40000;
/** Character device. */
export const S_IFCHR = 0o20000;
/** FIFO (named pipe). */
export const S_IFIFO = 0o10000;
/** Set-user-ID bit. */
export const S_ISUID = 0o4000;
/** Set-group-ID bit. */
export const S_ISGID = 0o2000;
/** Sticky bit: in a directory, only owners may remove or rename entries. */
export const S_ISVTX = 0o1000;
/** Mask of the permission and special bits of a mode. */
export const S_IALLUGO = 0o7777;

/** The dirfd value that means the current working directory. */
export const AT_FDCWD = -100;
/** Do not follow a symbolic link in the last component. */
export const AT_SYMLINK_NOFOLLOW = 0x100;
/** unlinkat: remove a directory, as rmdir does. */
export const AT_REMOVEDIR = 0x200;
/** faccessat: check with the effective IDs instead of the real ones. */
export const AT_EACCESS = 0x200;
/** linkat: follow a symbolic link in the last component of the old path. */
export const AT_SYMLINK_FOLLOW = 0x400;
/** Do not trigger an automount on the last component. */
export const AT_NO_AUTOMOUNT = 0x800;
/** An empty path names the file that dirfd refers to. */
export const AT_EMPTY_PATH = 0x1000;

/** lseek: the offset is absolute. */
export const SEEK_SET = 0;
/** lseek: the offset is relative to the current position. */
export const SEEK_CUR = 1;
/** lseek: the offset is relative to the end of the file. */
export const SEEK_END = 2;
/** lseek: the next offset at or after the given one that contains data. */
export const SEEK_DATA = 3;
/** lseek: the next offset at or after the given one that is in a hole. */
export const SEEK_HOLE = 4;

/** renameat2: fail with EEXIST if the new name exists. */
export const RENAME_NOREPLACE = 1;
/** renameat2: swap the two names atomically. */
export const RENAME_EXCHANGE = 2;
/** renameat2: leave a whiteout at the old name (overlay file systems only). */
export const RENAME_WHITEOUT = 4;

/** access: test for existence only. */
export const F_OK = 0;
/** access and permission checks: execute, or search for a directory. */
export const X_OK = 1;
/** access and permission checks: write. */
export const W_OK = 2;
/** access and permission checks: read. */
export const R_OK = 4;

/** utimensat: set this time to the current time. */
export const UTIME_NOW = (1 << 30) - 1;
/** utimensat: leave this time unchanged. */
export const UTIME_OMIT = (1 << 30) - 2;

/** The descriptor flag that closes a descriptor on execve. */
export const FD_CLOEXEC = 1;

/** close_range: mark the range close-on-exec instead of closing it. */
export const CLOSE_RANGE_CLOEXEC = 4;
/** close_range: unshare the table first (a no-op here, because tables are never shared). */
export const CLOSE_RANGE_UNSHARE = 2;

/** d_type of a directory entry whose type is not known. */
export const DT_UNKNOWN = 0;
/** d_type of a FIFO. */
export const DT_FIFO = 1;
/** d_type of a character device. */
export const DT_CHR = 2;
/** d_type of a directory. */
export const DT_DIR = 4;
/** d_type of a block device. */
export const DT_BLK = 6;
/** d_type of a regular file. */
export const DT_REG = 8;
/** d_type of a symbolic link. */
export const DT_LNK = 10;
/** d_type of a socket. */
export const DT_SOCK = 12;

/** Maximum length of a path in bytes, including the terminating NUL. */
export const PATH_MAX = 4096;
/** Maximum length of one path component in bytes. */
export const NAME_MAX = 255;
/** Maximum number of symbolic links followed in one path resolution. */
export const MAXSYMLINKS = 40;

/** Converts the S_IFMT bits of a mode to the d_type of a directory entry. */
export function modeToDirentType(mode: number): number {
  return (mode & S_IFMT) >>> 12;
}

/**
 * Encodes a device number as Linux reports it in st_dev and st_rdev
 * (new_encode_dev): minor bits 0-7, major bits 8-19, minor bits 8-19 at 20-31.
 */
export function makeDev(major: number, minor: number): number {
  return ((minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12)) >>> 0;
}
