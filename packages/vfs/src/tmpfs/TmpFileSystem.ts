import type { DeviceRegistry } from "../devices/DeviceRegistry";
import type { FileSystem } from "../FileSystem";
import { TmpDirectory } from "./TmpDirectory";

/** Options of a new tmpfs. */
export interface TmpFileSystemOptions {
  /** st_dev of its inodes. Use VirtualFileSystem.allocateDevice. */
  dev: number;
  /** Permission bits of the root directory. 0o1777 by default, as Linux's tmpfs. */
  mode?: number;
  /** Owner of the root directory. 0 by default. */
  uid?: number;
  /** Group of the root directory. 0 by default. */
  gid?: number;
  /** Devices that the device nodes of this file system open. Without it they fail with ENXIO. */
  devices?: DeviceRegistry;
}

/**
 * An in-memory file system: directories, regular files, symbolic links, hard
 * links and device nodes, all living in this process. NOTE: there is no size
 * limit yet, so writes use memory until the process runs out instead of
 * failing with ENOSPC.
 */
export class TmpFileSystem implements FileSystem {
  readonly type = "tmpfs";
  readonly readOnly = false;
  readonly dev: number;
  readonly devices?: DeviceRegistry;
  private lastIno = 0;
  private readonly rootDirectory: TmpDirectory;

  constructor(options: TmpFileSystemOptions) {
    this.dev = options.dev;
    this.devices = options.devices;
    this.rootDirectory = new TmpDirectory(this, options.mode ?? 0o1777, {
      uid: options.uid ?? 0,
      gid: options.gid ?? 0,
    });
  }

  root(): TmpDirectory {
    return this.rootDirectory;
  }

  /** Allocates the next inode number. The root directory gets 1. */
  nextIno(): number {
    return ++this.lastIno;
  }
}
