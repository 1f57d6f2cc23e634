import type { Stat, Timespec } from "@sandbox/vfs";
import type { MessageReader } from "./MessageReader";
import type { MessageWriter } from "./MessageWriter";

/**
 * Offsets of the attributes of a file on the wire (WIRE_STAT_SIZE bytes,
 * little-endian). The inode number is the one the sandbox shows (see
 * InodeNumbers); the device number is left out, because the client shows its
 * own.
 */
export const enum WireStat {
  /** u64 */
  INO = 0,
  /** u32: file type and permission bits. */
  MODE = 8,
  /** u32 */
  NLINK = 12,
  /** u32 */
  UID = 16,
  /** u32 */
  GID = 20,
  /** u64 */
  RDEV = 24,
  /** u64 */
  SIZE = 32,
  /** u64: 512-byte units. */
  BLOCKS = 40,
  /** u32 */
  BLKSIZE = 48,
  /** u32 */
  ATIME_NSEC = 52,
  /** i64 */
  ATIME_SEC = 56,
  /** i64 */
  MTIME_SEC = 64,
  /** i64 */
  CTIME_SEC = 72,
  /** u32 */
  MTIME_NSEC = 80,
  /** u32 */
  CTIME_NSEC = 84,
}

/** Size of the attributes on the wire. */
export const WIRE_STAT_SIZE = 88;

/** Reads attributes from the wire, with `dev` as their device number. */
export function readStat(reader: MessageReader, dev: number): Stat {
  const bytes = reader.raw(WIRE_STAT_SIZE);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // 64-bit fields from two 32-bit halves: no BigInt, since a listing reads
  // one per entry. Like Number(), this loses bits above 2^53.
  const u64 = (at: number) => view.getUint32(at + 4, true) * 2 ** 32 + view.getUint32(at, true);
  const i64 = (at: number) => view.getInt32(at + 4, true) * 2 ** 32 + view.getUint32(at, true);
  const time = (secAt: number, nsecAt: number): Timespec => ({
    sec: i64(secAt),
    nsec: view.getUint32(nsecAt, true),
  });
  return {
    dev,
    ino: u64(WireStat.INO),
    mode: view.getUint32(WireStat.MODE, true),
    nlink: view.getUint32(WireStat.NLINK, true),
    uid: view.getUint32(WireStat.UID, true),
    gid: view.getUint32(WireStat.GID, true),
    rdev: u64(WireStat.RDEV),
    size: u64(WireStat.SIZE),
    blksize: view.getUint32(WireStat.BLKSIZE, true),
    blocks: u64(WireStat.BLOCKS),
    atime: time(WireStat.ATIME_SEC, WireStat.ATIME_NSEC),
    mtime: time(WireStat.MTIME_SEC, WireStat.MTIME_NSEC),
    ctime: time(WireStat.CTIME_SEC, WireStat.CTIME_NSEC),
  };
}
