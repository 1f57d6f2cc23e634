/** Inode numbers of files on other host devices than the mount root's start here. */
export const FOREIGN_INO_BASE = 2 ** 52;

/**
 * The inode numbers that the sandbox sees for host files. Files on the
 * device of the mount root keep their host inode number. Files on other host
 * devices (host mounts below the root) get numbers from FOREIGN_INO_BASE up,
 * in the order the gofer first sees them, so two host devices never share a
 * number in the one device that the client shows.
 *
 * NOTE: a host inode number of the root's device above 2^53 loses its low
 * bits, as every number of the VFS Stat does.
 */
export class InodeNumbers {
  private readonly foreign = new Map<string, number>();

  private readonly rootDevLow: number;
  private readonly rootDevHigh: number;

  constructor(private readonly rootDev: bigint) {
    this.rootDevLow = Number(BigInt.asUintN(32, rootDev));
    this.rootDevHigh = Number(BigInt.asUintN(32, rootDev >> 32n));
  }

  /** inoOf for device and inode numbers given as 32-bit halves, without BigInt on the root's device. */
  inoOfWords(devLow: number, devHigh: number, inoLow: number, inoHigh: number): number {
    if (devLow === this.rootDevLow && devHigh === this.rootDevHigh) return inoHigh * 2 ** 32 + inoLow;
    return this.inoOf((BigInt(devHigh) << 32n) | BigInt(devLow), (BigInt(inoHigh) << 32n) | BigInt(inoLow));
  }

  /** Returns the sandbox inode number of host inode `ino` on host device `dev`. */
  inoOf(dev: bigint, ino: bigint): number {
    if (dev === this.rootDev) {
      return Number(ino);
    }
    const key = `${dev}:${ino}`;
    let number = this.foreign.get(key);
    if (number === undefined) {
      number = FOREIGN_INO_BASE + this.foreign.size;
      this.foreign.set(key, number);
    }
    return number;
  }
}
