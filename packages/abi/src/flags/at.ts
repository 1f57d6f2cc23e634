import { formatFlags, tableOf } from "./format";

/** The `*at(2)` flags and the special directory file descriptor (include/uapi/linux/fcntl.h). */
export const AtFlags = {
  /** The dirfd value that makes a relative path start at the working directory. */
  AT_FDCWD: -100,
  AT_SYMLINK_NOFOLLOW: 0x100,
  /** faccessat(2) only: check with the effective IDs; shares its bit with AT_REMOVEDIR. */
  AT_EACCESS: 0x200,
  /** unlinkat(2) only: remove a directory. */
  AT_REMOVEDIR: 0x200,
  AT_SYMLINK_FOLLOW: 0x400,
  AT_NO_AUTOMOUNT: 0x800,
  AT_EMPTY_PATH: 0x1000,
  /** statx(2) only: mask of the synchronization type. */
  AT_STATX_SYNC_TYPE: 0x6000,
  AT_STATX_SYNC_AS_STAT: 0x0000,
  AT_STATX_FORCE_SYNC: 0x2000,
  AT_STATX_DONT_SYNC: 0x4000,
  AT_RECURSIVE: 0x8000,
} as const;

const AT_FLAG_TABLE = tableOf(AtFlags, [
  "AT_SYMLINK_NOFOLLOW", "AT_REMOVEDIR", "AT_SYMLINK_FOLLOW", "AT_NO_AUTOMOUNT", "AT_EMPTY_PATH", "AT_RECURSIVE",
]);

const FACCESSAT_FLAG_TABLE = tableOf(AtFlags, [
  "AT_SYMLINK_NOFOLLOW", "AT_EACCESS", "AT_SYMLINK_FOLLOW", "AT_NO_AUTOMOUNT", "AT_EMPTY_PATH", "AT_RECURSIVE",
]);

const STATX_FLAG_TABLE = tableOf(AtFlags, [
  "AT_SYMLINK_NOFOLLOW", "AT_REMOVEDIR", "AT_SYMLINK_FOLLOW", "AT_NO_AUTOMOUNT", "AT_EMPTY_PATH",
  "AT_STATX_FORCE_SYNC", "AT_STATX_DONT_SYNC", "AT_RECURSIVE",
]);

/** Formats `*at(2)` flags, as in `AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH`; bit 0x200 prints as AT_REMOVEDIR. */
export function formatAtFlags(flags: number | bigint): string {
  return formatFlags(flags, AT_FLAG_TABLE);
}

/** Formats faccessat2(2) flags, where bit 0x200 is AT_EACCESS. */
export function formatFaccessatFlags(flags: number | bigint): string {
  return formatFlags(flags, FACCESSAT_FLAG_TABLE);
}

/** Formats statx(2) flags, which add the AT_STATX_* synchronization types. */
export function formatStatxFlags(flags: number | bigint): string {
  return formatFlags(flags, STATX_FLAG_TABLE, { zero: "AT_STATX_SYNC_AS_STAT" });
}

/** Formats a directory file descriptor: `AT_FDCWD` or the descriptor as a signed 32-bit number. */
export function formatDirfd(dirfd: number | bigint): string {
  const fd = Number(BigInt.asIntN(32, BigInt(dirfd)));
  return fd === AtFlags.AT_FDCWD ? "AT_FDCWD" : String(fd);
}
