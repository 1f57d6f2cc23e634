import type { FileSystem, Inode } from "@sandbox/vfs";
import { ATTACH_READ_ONLY, MessageType } from "../protocol/messages";
import { readStat } from "../protocol/wireStat";
import type { Statfs } from "../protocol/wireStatfs";
import type { GoferConnection } from "./GoferConnection";
import { GoferInode } from "./GoferInode";
import type { SharedHostFd } from "./SharedHostFd";

/** Options of a GoferFileSystem. */
export interface GoferFileSystemOptions {
  /** st_dev of its inodes. Use VirtualFileSystem.allocateDevice. */
  dev: number;
  /** File system type as /proc/mounts shows it; "9p" by default, the name gVisor gives its gofer mounts. */
  type?: string;
  /**
   * Whether the sandbox may assume that no other process changes the host
   * tree while it runs, as gVisor's exclusive file access does. Then a
   * read-only mount caches the gofer's replies: lookups (also of missing names),
   * attributes, link targets and directory listings, and read-only opens
   * of a file share one host descriptor. A writable mount ignores it.
   * False by default.
   */
  cache?: boolean;
}

/** Maximum number of host descriptors a caching mount keeps open for later opens. */
const SHARED_FD_LIMIT = 256;

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
  /** Whether inodes cache the gofer's replies (see GoferFileSystemOptions.cache). */
  readonly cached: boolean;
  private readonly rootInode: GoferInode;
  /** Host descriptors kept for later read-only opens, least recently used first. */
  private readonly sharedFds = new Map<GoferInode, SharedHostFd>();

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
    this.cached = readOnly && options.cache === true;
    this.rootInode = new GoferInode(this, handle, stat);
  }

  root(): Inode {
    return this.rootInode;
  }

  /** Returns the statistics of the host file system of the mount root (statfs(2)). */
  statfs(): Statfs {
    return this.rootInode.statfs();
  }

  /** Returns the host descriptor kept for read-only opens of `inode`, if any. */
  sharedFd(inode: GoferInode): SharedHostFd | undefined {
    const shared = this.sharedFds.get(inode);
    if (shared !== undefined) {
      this.sharedFds.delete(inode);
      this.sharedFds.set(inode, shared);
    }
    return shared;
  }

  /** Keeps `shared` (holding it) for later read-only opens of `inode`, closing the least recently used one past the limit. */
  keepSharedFd(inode: GoferInode, shared: SharedHostFd): void {
    this.sharedFds.set(inode, shared);
    if (this.sharedFds.size > SHARED_FD_LIMIT) {
      const [oldest, fd] = this.sharedFds.entries().next().value as [GoferInode, SharedHostFd];
      this.sharedFds.delete(oldest);
      fd.release();
    }
  }

  /** Closes the connection, which makes the gofer exit. Open files keep their host descriptors. */
  close(): void {
    for (const shared of this.sharedFds.values()) shared.release();
    this.sharedFds.clear();
    this.connection.close();
  }
}
