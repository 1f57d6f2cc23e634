import { toView } from "./view";

/** Size of `struct statx` (include/uapi/linux/stat.h). */
export const STATX_SIZE = 256;

/** Byte offsets of the fields of `struct statx`. Each timestamp is an i64 tv_sec at +0 and a u32 tv_nsec at +8. */
export const StatxOffset = {
  stx_mask: 0,
  stx_blksize: 4,
  stx_attributes: 8,
  stx_nlink: 16,
  stx_uid: 20,
  stx_gid: 24,
  stx_mode: 28,
  stx_ino: 32,
  stx_size: 40,
  stx_blocks: 48,
  stx_attributes_mask: 56,
  stx_atime: 64,
  stx_btime: 80,
  stx_ctime: 96,
  stx_mtime: 112,
  stx_rdev_major: 128,
  stx_rdev_minor: 132,
  stx_dev_major: 136,
  stx_dev_minor: 140,
  stx_mnt_id: 144,
  stx_dio_mem_align: 152,
  stx_dio_offset_align: 156,
  stx_subvol: 160,
  stx_atomic_write_unit_min: 168,
  stx_atomic_write_unit_max: 172,
  stx_atomic_write_segments_max: 176,
  stx_dio_read_offset_align: 180,
  stx_atomic_write_unit_max_opt: 184,
} as const;

/** Bits of `stx_mask` and of the statx(2) mask argument. */
export const StatxMask = {
  STATX_TYPE: 0x1,
  STATX_MODE: 0x2,
  STATX_NLINK: 0x4,
  STATX_UID: 0x8,
  STATX_GID: 0x10,
  STATX_ATIME: 0x20,
  STATX_MTIME: 0x40,
  STATX_CTIME: 0x80,
  STATX_INO: 0x100,
  STATX_SIZE: 0x200,
  STATX_BLOCKS: 0x400,
  STATX_BASIC_STATS: 0x7ff,
  STATX_BTIME: 0x800,
  /** STATX_BASIC_STATS and STATX_BTIME; deprecated in linux/stat.h, but strace prints it. */
  STATX_ALL: 0xfff,
  STATX_MNT_ID: 0x1000,
  STATX_DIOALIGN: 0x2000,
  STATX_MNT_ID_UNIQUE: 0x4000,
  STATX_SUBVOL: 0x8000,
  STATX_WRITE_ATOMIC: 0x10000,
  STATX_DIO_READ_ALIGN: 0x20000,
} as const;

/** One `struct statx_timestamp`. */
export interface StatxTimestamp {
  sec: bigint;
  nsec: number;
}

/** The fields of `struct statx` that the Sentry fills; newer fields are written as zero. */
export interface StatxFields {
  mask: number;
  blksize: number;
  attributes: bigint;
  nlink: number;
  uid: number;
  gid: number;
  mode: number;
  ino: bigint;
  size: bigint;
  blocks: bigint;
  attributesMask: bigint;
  atime: StatxTimestamp;
  btime: StatxTimestamp;
  ctime: StatxTimestamp;
  mtime: StatxTimestamp;
  rdevMajor: number;
  rdevMinor: number;
  devMajor: number;
  devMinor: number;
  mntId: bigint;
}

/** Writes a complete `struct statx` at `offset` with every other byte zeroed and returns STATX_SIZE. */
export function encodeStatx(target: DataView | Uint8Array, offset: number, fields: StatxFields): number {
  const view = toView(target, offset, STATX_SIZE, "statx");
  for (let i = 0; i < STATX_SIZE; i += 8) {
    view.setBigUint64(offset + i, 0n, true);
  }

  view.setUint32(offset + StatxOffset.stx_mask, fields.mask, true);
  view.setUint32(offset + StatxOffset.stx_blksize, fields.blksize, true);
  view.setBigUint64(offset + StatxOffset.stx_attributes, BigInt.asUintN(64, fields.attributes), true);
  view.setUint32(offset + StatxOffset.stx_nlink, fields.nlink, true);
  view.setUint32(offset + StatxOffset.stx_uid, fields.uid, true);
  view.setUint32(offset + StatxOffset.stx_gid, fields.gid, true);
  view.setUint16(offset + StatxOffset.stx_mode, fields.mode, true);
  view.setBigUint64(offset + StatxOffset.stx_ino, BigInt.asUintN(64, fields.ino), true);
  view.setBigUint64(offset + StatxOffset.stx_size, BigInt.asUintN(64, fields.size), true);
  view.setBigUint64(offset + StatxOffset.stx_blocks, BigInt.asUintN(64, fields.blocks), true);
  view.setBigUint64(offset + StatxOffset.stx_attributes_mask, BigInt.asUintN(64, fields.attributesMask), true);
  writeTimestamp(view, offset + StatxOffset.stx_atime, fields.atime);
  writeTimestamp(view, offset + StatxOffset.stx_btime, fields.btime);
  writeTimestamp(view, offset + StatxOffset.stx_ctime, fields.ctime);
  writeTimestamp(view, offset + StatxOffset.stx_mtime, fields.mtime);
  view.setUint32(offset + StatxOffset.stx_rdev_major, fields.rdevMajor, true);
  view.setUint32(offset + StatxOffset.stx_rdev_minor, fields.rdevMinor, true);
  view.setUint32(offset + StatxOffset.stx_dev_major, fields.devMajor, true);
  view.setUint32(offset + StatxOffset.stx_dev_minor, fields.devMinor, true);
  view.setBigUint64(offset + StatxOffset.stx_mnt_id, BigInt.asUintN(64, fields.mntId), true);
  return STATX_SIZE;
}

/** Reads the fields of a `struct statx` at `offset`. */
export function decodeStatx(source: DataView | Uint8Array, offset = 0): StatxFields {
  const view = toView(source, offset, STATX_SIZE, "statx");
  return {
    mask: view.getUint32(offset + StatxOffset.stx_mask, true),
    blksize: view.getUint32(offset + StatxOffset.stx_blksize, true),
    attributes: view.getBigUint64(offset + StatxOffset.stx_attributes, true),
    nlink: view.getUint32(offset + StatxOffset.stx_nlink, true),
    uid: view.getUint32(offset + StatxOffset.stx_uid, true),
    gid: view.getUint32(offset + StatxOffset.stx_gid, true),
    mode: view.getUint16(offset + StatxOffset.stx_mode, true),
    ino: view.getBigUint64(offset + StatxOffset.stx_ino, true),
    size: view.getBigUint64(offset + StatxOffset.stx_size, true),
    blocks: view.getBigUint64(offset + StatxOffset.stx_blocks, true),
    attributesMask: view.getBigUint64(offset + StatxOffset.stx_attributes_mask, true),
    atime: readTimestamp(view, offset + StatxOffset.stx_atime),
    btime: readTimestamp(view, offset + StatxOffset.stx_btime),
    ctime: readTimestamp(view, offset + StatxOffset.stx_ctime),
    mtime: readTimestamp(view, offset + StatxOffset.stx_mtime),
    rdevMajor: view.getUint32(offset + StatxOffset.stx_rdev_major, true),
    rdevMinor: view.getUint32(offset + StatxOffset.stx_rdev_minor, true),
    devMajor: view.getUint32(offset + StatxOffset.stx_dev_major, true),
    devMinor: view.getUint32(offset + StatxOffset.stx_dev_minor, true),
    mntId: view.getBigUint64(offset + StatxOffset.stx_mnt_id, true),
  };
}

function writeTimestamp(view: DataView, at: number, timestamp: StatxTimestamp): void {
  view.setBigInt64(at, BigInt.asIntN(64, timestamp.sec), true);
  view.setUint32(at + 8, timestamp.nsec, true);
}

function readTimestamp(view: DataView, at: number): StatxTimestamp {
  return { sec: view.getBigInt64(at, true), nsec: view.getUint32(at + 8, true) };
}
