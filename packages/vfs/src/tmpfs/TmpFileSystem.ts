import type { DeviceRegistry } from "../devices/DeviceRegistry";
import type { FileSystem } from "../FileSystem";
import type { SharedPages } from "./FileData";
import { S_IFREG } from "../constants";
import type { Owner } from "../Stat";
import { TmpDirectory } from "./TmpDirectory";
import { TmpRegularFile } from "./TmpRegularFile";

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
  /**
   * Memory that regular files move into when they are mapped, so that
   * MAP_SHARED works. Without it, mmap of a file here copies it.
   */
  sharedPages?: SharedPages;
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
  readonly sharedPages?: SharedPages;
  private lastIno = 0;
  private readonly rootDirectory: TmpDirectory;

  constructor(options: TmpFileSystemOptions) {
    this.dev = options.dev;
    this.devices = options.devices;
    this.sharedPages = options.sharedPages;
    this.rootDirectory = new TmpDirectory(this, options.mode ?? 0o1777, {
      uid: options.uid ?? 0,
      gid: options.gid ?? 0,
    });
  }

  root(): TmpDirectory {
    return this.rootDirectory;
  }

  /**
   * Creates a regular file with no name in any directory, as memfd_create
   * does. `linkName` is what /proc/[pid]/fd/N shows for it.
   */
  createUnlinkedFile(mode: number, owner: Owner, linkName: string): TmpRegularFile {
    const file = new TmpRegularFile(this, S_IFREG | (mode & 0o7777), owner);
    file.nlink = 0;
    file.linkName = linkName;
    return file;
  }

  /** Allocates the next inode number. The root directory gets 1. */
  nextIno(): number {
    return ++this.lastIno;
  }
}
