import { formatFlags, lookupName, tableOf, toUint64 } from "./format";

/** File type and permission bits of `st_mode` (include/uapi/linux/stat.h). */
export const FileMode = {
  S_IFMT: 0o170000,
  S_IFSOCK: 0o140000,
  S_IFLNK: 0o120000,
  S_IFREG: 0o100000,
  S_IFBLK: 0o060000,
  S_IFDIR: 0o040000,
  S_IFCHR: 0o020000,
  S_IFIFO: 0o010000,
  S_ISUID: 0o4000,
  S_ISGID: 0o2000,
  S_ISVTX: 0o1000,
  S_IRWXU: 0o700,
  S_IRUSR: 0o400,
  S_IWUSR: 0o200,
  S_IXUSR: 0o100,
  S_IRWXG: 0o070,
  S_IRGRP: 0o040,
  S_IWGRP: 0o020,
  S_IXGRP: 0o010,
  S_IRWXO: 0o007,
  S_IROTH: 0o004,
  S_IWOTH: 0o002,
  S_IXOTH: 0o001,
} as const;

/** The `mode` argument of access(2) and faccessat(2). */
export const AccessMode = {
  F_OK: 0,
  X_OK: 1,
  W_OK: 2,
  R_OK: 4,
} as const;

/** Directory entry types of `d_type` in `struct linux_dirent64` (DT_*), which are the S_IF* type shifted right by 12. */
export const DirentType = {
  DT_UNKNOWN: 0,
  DT_FIFO: 1,
  DT_CHR: 2,
  DT_DIR: 4,
  DT_BLK: 6,
  DT_REG: 8,
  DT_LNK: 10,
  DT_SOCK: 12,
  DT_WHT: 14,
} as const;

const FILE_TYPE_TABLE = tableOf(FileMode, ["S_IFSOCK", "S_IFLNK", "S_IFREG", "S_IFBLK", "S_IFDIR", "S_IFCHR", "S_IFIFO"]);

const ACCESS_TABLE = tableOf(AccessMode, ["R_OK", "W_OK", "X_OK"]);

/** Returns the `d_type` value for an `st_mode` (DT_UNKNOWN for an unknown file type). */
export function direntTypeOfMode(mode: number): number {
  return (mode & FileMode.S_IFMT) >>> 12;
}

/**
 * Formats permission bits in octal as strace does with C's `%#03o`: a leading
 * 0 and at least three digits, as in `0644`, `04755`, `007` or `000`.
 */
export function formatMode(mode: number | bigint): string {
  const value = toUint64(mode);
  const text = value === 0n ? "0" : `0${value.toString(8)}`;
  return text.padStart(3, "0");
}

/**
 * Formats an `st_mode` as strace does: the file type, then the other bits in
 * octal, as in `S_IFREG|0644`. A mode with no file type prints as octal alone.
 */
export function formatStatMode(mode: number | bigint): string {
  const value = toUint64(mode);
  const typeBits = value & BigInt(FileMode.S_IFMT);
  const perm = value & ~BigInt(FileMode.S_IFMT);
  if (typeBits === 0n) {
    return formatMode(perm);
  }
  const typeName = lookupName(typeBits, FILE_TYPE_TABLE) ?? `0${typeBits.toString(8)}`;
  return `${typeName}|${formatMode(perm)}`;
}

/** Formats the mode of access(2), as in `R_OK|W_OK` or `F_OK`. */
export function formatAccessMode(mode: number | bigint): string {
  return formatFlags(mode, ACCESS_TABLE, { zero: "F_OK" });
}
