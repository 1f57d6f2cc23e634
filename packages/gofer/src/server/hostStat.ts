import type { MessageWriter } from "../protocol/MessageWriter";
import { WIRE_STAT_SIZE, WireStat } from "../protocol/wireStat";
import type { InodeNumbers } from "./InodeNumbers";

/** Offsets of the fields of struct stat on x86-64, as fstatat fills it. */
export const enum HostStat {
  DEV = 0,
  INO = 8,
  NLINK = 16,
  MODE = 24,
  UID = 28,
  GID = 32,
  RDEV = 40,
  SIZE = 48,
  BLKSIZE = 56,
  BLOCKS = 64,
  ATIME_SEC = 72,
  ATIME_NSEC = 80,
  MTIME_SEC = 88,
  MTIME_NSEC = 96,
  CTIME_SEC = 104,
  CTIME_NSEC = 112,
}

/**
 * Appends the attributes of the struct stat in `host` on the wire, with
 * the sandbox's inode number for it. The fields are copied as 32-bit
 * words, with no BigInt arithmetic, since a listing writes one per entry.
 */
export function writeHostStat(writer: MessageWriter, host: DataView, inodes: InodeNumbers): void {
  const ino = inodes.inoOfWords(
    host.getUint32(HostStat.DEV, true),
    host.getUint32(HostStat.DEV + 4, true),
    host.getUint32(HostStat.INO, true),
    host.getUint32(HostStat.INO + 4, true),
  );
  const at = writer.reserve(WIRE_STAT_SIZE);
  const wire = writer.dataView;
  const copy64 = (from: number, to: number) => {
    wire.setUint32(at + to, host.getUint32(from, true), true);
    wire.setUint32(at + to + 4, host.getUint32(from + 4, true), true);
  };
  wire.setUint32(at + WireStat.INO, ino % 2 ** 32, true);
  wire.setUint32(at + WireStat.INO + 4, Math.floor(ino / 2 ** 32), true);
  wire.setUint32(at + WireStat.MODE, host.getUint32(HostStat.MODE, true), true);
  // nlink is 64 bits on the host and 32 on the wire.
  wire.setUint32(at + WireStat.NLINK, host.getUint32(HostStat.NLINK, true), true);
  wire.setUint32(at + WireStat.UID, host.getUint32(HostStat.UID, true), true);
  wire.setUint32(at + WireStat.GID, host.getUint32(HostStat.GID, true), true);
  copy64(HostStat.RDEV, WireStat.RDEV);
  copy64(HostStat.SIZE, WireStat.SIZE);
  copy64(HostStat.BLOCKS, WireStat.BLOCKS);
  wire.setUint32(at + WireStat.BLKSIZE, host.getUint32(HostStat.BLKSIZE, true), true);
  copy64(HostStat.ATIME_SEC, WireStat.ATIME_SEC);
  copy64(HostStat.MTIME_SEC, WireStat.MTIME_SEC);
  copy64(HostStat.CTIME_SEC, WireStat.CTIME_SEC);
  wire.setUint32(at + WireStat.ATIME_NSEC, host.getUint32(HostStat.ATIME_NSEC, true), true);
  wire.setUint32(at + WireStat.MTIME_NSEC, host.getUint32(HostStat.MTIME_NSEC, true), true);
  wire.setUint32(at + WireStat.CTIME_NSEC, host.getUint32(HostStat.CTIME_NSEC, true), true);
}
