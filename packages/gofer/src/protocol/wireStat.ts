import type { BigIntStats } from "node:fs";

/** The host attributes writeStat sends: a BigIntStats, or the same fields from fstatat. */
export type WireStatSource = Pick<BigIntStats, "mode" | "nlink" | "uid" | "gid" | "rdev" | "size" | "blocks" | "blksize" | "atimeNs" | "mtimeNs" | "ctimeNs">;
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

const BILLION = 1_000_000_000n;

/** Splits nanoseconds since the epoch into seconds and nanoseconds, rounding down. */
function splitNanos(nanos: bigint): [bigint, number] {
  let sec = nanos / BILLION;
  let nsec = nanos % BILLION;
  if (nsec < 0n) {
    sec -= 1n;
    nsec += BILLION;
  }
  return [sec, Number(nsec)];
}

/** Appends host attributes (from a `bigint: true` stat call) with the sandbox inode number `ino`. */
export function writeStat(writer: MessageWriter, host: WireStatSource, ino: number): void {
  const at = writer.reserve(WIRE_STAT_SIZE);
  const view = writer.dataView;
  const [atimeSec, atimeNsec] = splitNanos(host.atimeNs);
  const [mtimeSec, mtimeNsec] = splitNanos(host.mtimeNs);
  const [ctimeSec, ctimeNsec] = splitNanos(host.ctimeNs);

  view.setBigUint64(at + WireStat.INO, BigInt(ino), true);
  view.setUint32(at + WireStat.MODE, Number(host.mode), true);
  view.setUint32(at + WireStat.NLINK, Number(host.nlink), true);
  view.setUint32(at + WireStat.UID, Number(host.uid), true);
  view.setUint32(at + WireStat.GID, Number(host.gid), true);
  view.setBigUint64(at + WireStat.RDEV, host.rdev, true);
  view.setBigUint64(at + WireStat.SIZE, host.size, true);
  view.setBigUint64(at + WireStat.BLOCKS, host.blocks, true);
  view.setUint32(at + WireStat.BLKSIZE, Number(host.blksize), true);
  view.setBigInt64(at + WireStat.ATIME_SEC, atimeSec, true);
  view.setUint32(at + WireStat.ATIME_NSEC, atimeNsec, true);
  view.setBigInt64(at + WireStat.MTIME_SEC, mtimeSec, true);
  view.setUint32(at + WireStat.MTIME_NSEC, mtimeNsec, true);
  view.setBigInt64(at + WireStat.CTIME_SEC, ctimeSec, true);
  view.setUint32(at + WireStat.CTIME_NSEC, ctimeNsec, true);
}

/** Reads attributes from the wire, with `dev` as their device number. */
export function readStat(reader: MessageReader, dev: number): Stat {
  const bytes = reader.raw(WIRE_STAT_SIZE);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const time = (secAt: number, nsecAt: number): Timespec => ({
    sec: Number(view.getBigInt64(secAt, true)),
    nsec: view.getUint32(nsecAt, true),
  });
  return {
    dev,
    ino: Number(view.getBigUint64(WireStat.INO, true)),
    mode: view.getUint32(WireStat.MODE, true),
    nlink: view.getUint32(WireStat.NLINK, true),
    uid: view.getUint32(WireStat.UID, true),
    gid: view.getUint32(WireStat.GID, true),
    rdev: Number(view.getBigUint64(WireStat.RDEV, true)),
    size: Number(view.getBigUint64(WireStat.SIZE, true)),
    blksize: view.getUint32(WireStat.BLKSIZE, true),
    blocks: Number(view.getBigUint64(WireStat.BLOCKS, true)),
    atime: time(WireStat.ATIME_SEC, WireStat.ATIME_NSEC),
    mtime: time(WireStat.MTIME_SEC, WireStat.MTIME_NSEC),
    ctime: time(WireStat.CTIME_SEC, WireStat.CTIME_NSEC),
  };
}
