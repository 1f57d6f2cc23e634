import { Errno, SyscallError } from "@sandbox/abi";
import { S_IFBLK, S_IFCHR, S_IFMT } from "../constants";
import type { FileDescriptionImpl } from "../FileSystem";
import type { Owner } from "../Stat";
import { TmpInode } from "./TmpInode";
import type { TmpFileSystem } from "./TmpFileSystem";

/**
 * A device node, FIFO or socket of a tmpfs. Opening a device node opens the
 * device with that number from the file system's DeviceRegistry.
 */
export class TmpSpecialFile extends TmpInode {
  constructor(fs: TmpFileSystem, mode: number, rdev: number, owner: Owner) {
    super(fs, mode, owner);
    this.rdev = rdev;
  }

  get size(): number {
    return 0;
  }

  open(flags: number): FileDescriptionImpl {
    const type = this.mode & S_IFMT;
    if (type === S_IFCHR || type === S_IFBLK) {
      const registry = this.fs.devices;
      if (registry === undefined) {
        throw new SyscallError(Errno.ENXIO, "no devices are registered for this file system");
      }
      return registry.open(type, this.rdev, flags, () => this.stat());
    }
    // TODO: opening a FIFO needs pipes, which the VFS does not have yet.
    throw new SyscallError(Errno.ENXIO);
  }
}
