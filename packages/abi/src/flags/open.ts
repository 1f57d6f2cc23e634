import { formatFlags, tableOf, toUint64 } from "./format";

/** open(2) flags of x86-64 (include/uapi/asm-generic/fcntl.h). */
export const OpenFlags = {
  O_RDONLY: 0o0,
  O_WRONLY: 0o1,
  O_RDWR: 0o2,
  O_ACCMODE: 0o3,
  O_CREAT: 0o100,
  O_EXCL: 0o200,
  O_NOCTTY: 0o400,
  O_TRUNC: 0o1000,
  O_APPEND: 0o2000,
  O_NONBLOCK: 0o4000,
  O_NDELAY: 0o4000,
  O_DSYNC: 0o10000,
  O_ASYNC: 0o20000,
  FASYNC: 0o20000,
  O_DIRECT: 0o40000,
  O_LARGEFILE: 0o100000,
  O_DIRECTORY: 0o200000,
  O_NOFOLLOW: 0o400000,
  O_NOATIME: 0o1000000,
  O_CLOEXEC: 0o2000000,
  /** O_SYNC without O_DSYNC; the kernel's `__O_SYNC`. */
  __O_SYNC: 0o4000000,
  O_SYNC: 0o4010000,
  O_RSYNC: 0o4010000,
  O_PATH: 0o10000000,
  /** O_TMPFILE without O_DIRECTORY; the kernel's `__O_TMPFILE`. */
  __O_TMPFILE: 0o20000000,
  O_TMPFILE: 0o20200000,
} as const;

/** Every open(2) flag Linux accepts besides the access mode (VALID_OPEN_FLAGS less O_ACCMODE). */
export const O_VALID_FLAGS =
  OpenFlags.O_CREAT | OpenFlags.O_EXCL | OpenFlags.O_NOCTTY | OpenFlags.O_TRUNC | OpenFlags.O_APPEND |
  OpenFlags.O_NONBLOCK | OpenFlags.O_DSYNC | OpenFlags.O_ASYNC | OpenFlags.O_DIRECT | OpenFlags.O_LARGEFILE |
  OpenFlags.O_DIRECTORY | OpenFlags.O_NOFOLLOW | OpenFlags.O_NOATIME | OpenFlags.O_CLOEXEC | OpenFlags.__O_SYNC |
  OpenFlags.O_PATH | OpenFlags.__O_TMPFILE;

const ACCESS_MODES = ["O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"] as const;

const OPEN_FLAG_TABLE = tableOf(OpenFlags, [
  "O_CREAT", "O_EXCL", "O_NOCTTY", "O_TRUNC", "O_APPEND", "O_NONBLOCK", "O_SYNC", "O_DSYNC", "O_DIRECT",
  "O_LARGEFILE", "O_NOFOLLOW", "O_NOATIME", "O_CLOEXEC", "O_PATH", "O_TMPFILE", "O_DIRECTORY", "FASYNC",
]);

/**
 * Formats open(2) flags as strace does: the access mode first, then the other
 * flags, as in `O_RDONLY|O_CLOEXEC` or `O_WRONLY|O_CREAT|O_TRUNC`.
 */
export function formatOpenFlags(flags: number | bigint): string {
  const value = toUint64(flags);
  const mode = ACCESS_MODES[Number(value & 3n)];
  const rest = value & ~3n;
  return rest === 0n ? mode : `${mode}|${formatFlags(rest, OPEN_FLAG_TABLE)}`;
}

/** Formats open(2) flags without an access mode, as pipe2(2) and dup3(2) take them, as in `O_CLOEXEC` or `0`. */
export function formatOpenFlagBits(flags: number | bigint): string {
  return formatFlags(flags, OPEN_FLAG_TABLE);
}
