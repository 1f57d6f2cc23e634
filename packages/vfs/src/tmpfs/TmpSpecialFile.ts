import { Errno, SyscallError } from "@sandbox/abi";
import { S_IFBLK, S_IFCHR, S_IFIFO, S_IFMT } from "../constants";
import type { FileDescriptionImpl } from "../FileSystem";
import { openFifo } from "../pipe/fifo";
import { Pipe } from "../pipe/Pipe";
import type { Owner } from "../Stat";
import { TmpInode } from "./TmpInode";
import type { TmpFileSystem } from "./TmpFileSystem";

/**
 * A device node, FIFO or socket of a tmpfs. Opening a device node opens the
 * device with that number from the file system's DeviceRegistry. Every open
 * of a FIFO shares one pipe (see openFifo for when an open waits), whose
 * data is dropped when the last end closes. Opening a socket fails with
 * ENXIO, as on Linux.
 */
export class TmpSpecialFile extends TmpInode {
  private pipe: Pipe | undefined;

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
    if (type === S_IFIFO) {
      this.pipe ??= new Pipe();
      return openFifo(this.pipe, flags, () => this.stat());
    }
    throw new SyscallError(Errno.ENXIO);
  }
}
