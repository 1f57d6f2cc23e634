import type { FileSystem, Inode } from "@sandbox/vfs";
import { ATTACH_READ_ONLY, MessageType } from "../protocol/messages";
import { readStat } from "../protocol/wireStat";
import type { Statfs } from "../protocol/wireStatfs";
import type { GoferConnection } from "./GoferConnection";
import { GoferInode } from "./GoferInode";

/** Options of a GoferFileSystem. */
export interface GoferFileSystemOptions {
  /** st_dev of its inodes. Use VirtualFileSystem.allocateDevice. */
  dev: number;
  /** File system type as /proc/mounts shows it; "9p" by default, the name gVisor gives its gofer mounts. */
  type?: string;
}

/**
 * A host directory tree that a gofer serves, as a VFS file system. Every
 * operation is a synchronous request to the gofer over `connection`. Open
 * files are host descriptors that the gofer sent (see GoferRegularFile).
 * It is read-only when the gofer serves the mount read-only.
 *
 * Once the gofer is gone, every operation that needs it fails with EIO.
 */
export class GoferFileSystem implements FileSystem {
  readonly type: string;
  readonly dev: number;
  readonly readOnly: boolean;
  private readonly rootInode: GoferInode;

  /** Attaches to the gofer at the other end of `connection` (an ATTACH request). Throws EIO when the gofer is gone. */
  constructor(
    readonly connection: GoferConnection,
    options: GoferFileSystemOptions,
  ) {
    this.type = options.type ?? "9p";
    this.dev = options.dev;
    const { handle, readOnly, stat } = connection.request(
      MessageType.ATTACH,
      () => undefined,
      (reader) => {
        const rootHandle = reader.u32();
        const flags = reader.u32();
        return { handle: rootHandle, readOnly: (flags & ATTACH_READ_ONLY) !== 0, stat: readStat(reader, options.dev) };
      },
    );
    this.readOnly = readOnly;
    this.rootInode = new GoferInode(this, handle, stat);
  }

  root(): Inode {
    return this.rootInode;
  }

  /** Returns the statistics of the host file system of the mount root (statfs(2)). */
  statfs(): Statfs {
    return this.rootInode.statfs();
  }

  /** Closes the connection, which makes the gofer exit. Open files keep their host descriptors. */
  close(): void {
    this.connection.close();
  }
}
