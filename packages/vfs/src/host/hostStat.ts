import type { BigIntStats } from "node:fs";
import { type Stat, timespecFromNanos } from "../Stat";

/**
 * Converts host attributes (from a `bigint: true` stat call) to a Stat,
 * with `dev` and `ino` as the sandbox shows them.
 */
export function statFromHost(host: BigIntStats, dev: number, ino: number): Stat {
  return {
    dev,
    ino,
    mode: Number(host.mode),
    nlink: Number(host.nlink),
    uid: Number(host.uid),
    gid: Number(host.gid),
    rdev: Number(host.rdev),
    size: Number(host.size),
    blksize: Number(host.blksize),
    blocks: Number(host.blocks),
    atime: timespecFromNanos(host.atimeNs),
    mtime: timespecFromNanos(host.mtimeNs),
    ctime: timespecFromNanos(host.ctimeNs),
  };
}
