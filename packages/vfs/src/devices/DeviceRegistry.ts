import { Errno, SyscallError } from "@sandbox/abi";
import { S_IFBLK } from "../constants";
import type { FileDescriptionImpl } from "../FileSystem";
import type { Stat } from "../Stat";

/**
 * Opens one device. `flags` are the open flags, and `stat` returns the
 * attributes of the device node that was opened, which fstat reports.
 */
export type DeviceOpener = (flags: number, stat: () => Stat) => FileDescriptionImpl;

/**
 * The devices of a sandbox, by type and device number, as Linux's chrdev and
 * blkdev tables. A device node opens the device its number names, whichever
 * file system the node is on. Unknown numbers fail with ENXIO.
 */
export class DeviceRegistry {
  private readonly characterDevices = new Map<number, DeviceOpener>();
  private readonly blockDevices = new Map<number, DeviceOpener>();

  /** Adds the character device `rdev` (see makeDev). Throws if the number is taken. */
  registerCharacterDevice(rdev: number, open: DeviceOpener): void {
    if (this.characterDevices.has(rdev)) {
      throw new Error(`character device 0x${rdev.toString(16)} is already registered`);
    }
    this.characterDevices.set(rdev, open);
  }

  /** Adds the block device `rdev`. Throws if the number is taken. */
  registerBlockDevice(rdev: number, open: DeviceOpener): void {
    if (this.blockDevices.has(rdev)) {
      throw new Error(`block device 0x${rdev.toString(16)} is already registered`);
    }
    this.blockDevices.set(rdev, open);
  }

  /** Reports whether a device of type `type` (S_IFCHR or S_IFBLK) and number `rdev` is registered. */
  has(type: number, rdev: number): boolean {
    return (type === S_IFBLK ? this.blockDevices : this.characterDevices).has(rdev);
  }

  /** Opens the device of type `type` (S_IFCHR or S_IFBLK) and number `rdev`. */
  open(type: number, rdev: number, flags: number, stat: () => Stat): FileDescriptionImpl {
    const table = type === S_IFBLK ? this.blockDevices : this.characterDevices;
    const open = table.get(rdev);
    if (open === undefined) {
      throw new SyscallError(Errno.ENXIO, `no device 0x${rdev.toString(16)}`);
    }
    return open(flags, stat);
  }
}
