import { devMajor, devMinor, encodeStat, encodeStatx, STAT_SIZE, STATX_SIZE } from "@sandbox/abi";
import type { Stat } from "@sandbox/vfs";

/** Encodes a VFS stat as the x86-64 `struct stat`. */
export function statBytes(stat: Stat): Uint8Array {
  const bytes = new Uint8Array(STAT_SIZE);
  encodeStat(bytes, 0, {
    dev: BigInt(stat.dev),
    ino: BigInt(stat.ino),
    nlink: BigInt(stat.nlink),
    mode: stat.mode,
    uid: stat.uid,
    gid: stat.gid,
    rdev: BigInt(stat.rdev),
    size: BigInt(stat.size),
    blksize: BigInt(stat.blksize),
    blocks: BigInt(stat.blocks),
    atimeSec: BigInt(stat.atime.sec),
    atimeNsec: BigInt(stat.atime.nsec),
    mtimeSec: BigInt(stat.mtime.sec),
    mtimeNsec: BigInt(stat.mtime.nsec),
    ctimeSec: BigInt(stat.ctime.sec),
    ctimeNsec: BigInt(stat.ctime.nsec),
  });
  return bytes;
}

const STATX_BASIC_STATS = 0x7ff;

/** Encodes a VFS stat as `struct statx` with the basic fields. NOTE: birth time is not reported. */
export function statxBytes(stat: Stat): Uint8Array {
  const bytes = new Uint8Array(STATX_SIZE);
  const time = (t: { sec: number; nsec: number }) => ({ sec: BigInt(t.sec), nsec: t.nsec });
  encodeStatx(bytes, 0, {
    mask: STATX_BASIC_STATS,
    blksize: stat.blksize,
    attributes: 0n,
    nlink: stat.nlink,
    uid: stat.uid,
    gid: stat.gid,
    mode: stat.mode,
    ino: BigInt(stat.ino),
    size: BigInt(stat.size),
    blocks: BigInt(stat.blocks),
    attributesMask: 0n,
    atime: time(stat.atime),
    btime: { sec: 0n, nsec: 0 },
    ctime: time(stat.ctime),
    mtime: time(stat.mtime),
    rdevMajor: devMajor(BigInt(stat.rdev)),
    rdevMinor: devMinor(BigInt(stat.rdev)),
    devMajor: devMajor(BigInt(stat.dev)),
    devMinor: devMinor(BigInt(stat.dev)),
    mntId: 0n,
  });
  return bytes;
}
