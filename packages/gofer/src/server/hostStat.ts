import type { Stat } from "@sandbox/vfs";
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

/** Reads the 64-bit field at `at` of `host` as a number (exact below 2^53). */
function hostNumber(host: DataView, at: number): number {
  return host.getUint32(at + 4, true) * 2 ** 32 + host.getUint32(at, true);
}

/** Reads the signed 64-bit field at `at` of `host` as a number. */
function hostSigned(host: DataView, at: number): number {
  return host.getInt32(at + 4, true) * 2 ** 32 + host.getUint32(at, true);
}

/** Reports whether the struct stat in `host` is of the host device whose number is `devLow` and `devHigh`. */
export function onHostDevice(host: DataView, devLow: number, devHigh: number): boolean {
  return host.getUint32(HostStat.DEV, true) === devLow && host.getUint32(HostStat.DEV + 4, true) === devHigh;
}

/**
 * Decodes the struct stat in `host`, of a file on the mount root's host
 * device, as the sandbox shows it: device `dev`, and the host's inode
 * number, as the gofer's InodeNumbers gives it for that device.
 */
export function readHostStat(host: DataView, dev: number): Stat {
  return {
    dev,
    ino: hostNumber(host, HostStat.INO),
    mode: host.getUint32(HostStat.MODE, true),
    nlink: host.getUint32(HostStat.NLINK, true),
    uid: host.getUint32(HostStat.UID, true),
    gid: host.getUint32(HostStat.GID, true),
    rdev: hostNumber(host, HostStat.RDEV),
    size: hostNumber(host, HostStat.SIZE),
    blksize: host.getUint32(HostStat.BLKSIZE, true),
    blocks: hostNumber(host, HostStat.BLOCKS),
    atime: { sec: hostSigned(host, HostStat.ATIME_SEC), nsec: host.getUint32(HostStat.ATIME_NSEC, true) },
    mtime: { sec: hostSigned(host, HostStat.MTIME_SEC), nsec: host.getUint32(HostStat.MTIME_NSEC, true) },
    ctime: { sec: hostSigned(host, HostStat.CTIME_SEC), nsec: host.getUint32(HostStat.CTIME_NSEC, true) },
  };
}
