import { toView } from "./view";

/** Size of the x86-64 `struct stat` that stat(2), fstat(2) and newfstatat(2) fill. */
export const STAT_SIZE = 144;

/** Byte offsets of the fields of the x86-64 `struct stat` (arch/x86/include/uapi/asm/stat.h). */
export const StatOffset = {
  st_dev: 0,
  st_ino: 8,
  st_nlink: 16,
  st_mode: 24,
  st_uid: 28,
  st_gid: 32,
  st_rdev: 40,
  st_size: 48,
  st_blksize: 56,
  st_blocks: 64,
  st_atime: 72,
  st_atime_nsec: 80,
  st_mtime: 88,
  st_mtime_nsec: 96,
  st_ctime: 104,
  st_ctime_nsec: 112,
} as const;

/** The fields of `struct stat`. Times are seconds and nanoseconds since the epoch. */
export interface StatFields {
  dev: bigint;
  ino: bigint;
  nlink: bigint;
  mode: number;
  uid: number;
  gid: number;
  rdev: bigint;
  size: bigint;
  blksize: bigint;
  blocks: bigint;
  atimeSec: bigint;
  atimeNsec: bigint;
  mtimeSec: bigint;
  mtimeNsec: bigint;
  ctimeSec: bigint;
  ctimeNsec: bigint;
}

/**
 * Writes a complete `struct stat` at `offset`, padding and reserved words
 * zeroed, and returns STAT_SIZE. Throws RangeError when the target is too short.
 */
export function encodeStat(target: DataView | Uint8Array, offset: number, fields: StatFields): number {
  const view = toView(target, offset, STAT_SIZE, "stat");
  for (let i = 0; i < STAT_SIZE; i += 8) {
    view.setBigUint64(offset + i, 0n, true);
  }

  view.setBigUint64(offset + StatOffset.st_dev, BigInt.asUintN(64, fields.dev), true);
  view.setBigUint64(offset + StatOffset.st_ino, BigInt.asUintN(64, fields.ino), true);
  view.setBigUint64(offset + StatOffset.st_nlink, BigInt.asUintN(64, fields.nlink), true);
  view.setUint32(offset + StatOffset.st_mode, fields.mode, true);
  view.setUint32(offset + StatOffset.st_uid, fields.uid, true);
  view.setUint32(offset + StatOffset.st_gid, fields.gid, true);
  view.setBigUint64(offset + StatOffset.st_rdev, BigInt.asUintN(64, fields.rdev), true);
  view.setBigInt64(offset + StatOffset.st_size, BigInt.asIntN(64, fields.size), true);
  view.setBigInt64(offset + StatOffset.st_blksize, BigInt.asIntN(64, fields.blksize), true);
  view.setBigInt64(offset + StatOffset.st_blocks, BigInt.asIntN(64, fields.blocks), true);
  view.setBigInt64(offset + StatOffset.st_atime, BigInt.asIntN(64, fields.atimeSec), true);
  view.setBigUint64(offset + StatOffset.st_atime_nsec, BigInt.asUintN(64, fields.atimeNsec), true);
  view.setBigInt64(offset + StatOffset.st_mtime, BigInt.asIntN(64, fields.mtimeSec), true);
  view.setBigUint64(offset + StatOffset.st_mtime_nsec, BigInt.asUintN(64, fields.mtimeNsec), true);
  view.setBigInt64(offset + StatOffset.st_ctime, BigInt.asIntN(64, fields.ctimeSec), true);
  view.setBigUint64(offset + StatOffset.st_ctime_nsec, BigInt.asUintN(64, fields.ctimeNsec), true);
  return STAT_SIZE;
}

/** Reads a `struct stat` at `offset`. Throws RangeError when the source is too short. */
export function decodeStat(source: DataView | Uint8Array, offset = 0): StatFields {
  const view = toView(source, offset, STAT_SIZE, "stat");
  return {
    dev: view.getBigUint64(offset + StatOffset.st_dev, true),
    ino: view.getBigUint64(offset + StatOffset.st_ino, true),
    nlink: view.getBigUint64(offset + StatOffset.st_nlink, true),
    mode: view.getUint32(offset + StatOffset.st_mode, true),
    uid: view.getUint32(offset + StatOffset.st_uid, true),
    gid: view.getUint32(offset + StatOffset.st_gid, true),
    rdev: view.getBigUint64(offset + StatOffset.st_rdev, true),
    size: view.getBigInt64(offset + StatOffset.st_size, true),
    blksize: view.getBigInt64(offset + StatOffset.st_blksize, true),
    blocks: view.getBigInt64(offset + StatOffset.st_blocks, true),
    atimeSec: view.getBigInt64(offset + StatOffset.st_atime, true),
    atimeNsec: view.getBigUint64(offset + StatOffset.st_atime_nsec, true),
    mtimeSec: view.getBigInt64(offset + StatOffset.st_mtime, true),
    mtimeNsec: view.getBigUint64(offset + StatOffset.st_mtime_nsec, true),
    ctimeSec: view.getBigInt64(offset + StatOffset.st_ctime, true),
    ctimeNsec: view.getBigUint64(offset + StatOffset.st_ctime_nsec, true),
  };
}

/** Combines a device's major and minor numbers as the kernel encodes `st_dev` and `st_rdev` (new_encode_dev). */
export function makeDev(major: number, minor: number): bigint {
  const ma = BigInt(major >>> 0);
  const mi = BigInt(minor >>> 0);
  return (mi & 0xffn) | ((ma & 0xfffn) << 8n) | ((mi & 0xffff_ff00n) << 12n) | ((ma & 0xffff_f000n) << 32n);
}

/** Returns the major number of an encoded device number. */
export function devMajor(dev: bigint): number {
  return Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & 0xffff_f000n));
}

/** Returns the minor number of an encoded device number. */
export function devMinor(dev: bigint): number {
  return Number((dev & 0xffn) | ((dev >> 12n) & 0xffff_ff00n));
}
