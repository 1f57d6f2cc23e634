import { Errno } from "@sandbox/abi";
import type { FileSystem, Inode, Stat } from "@sandbox/vfs";
import { ATTACH_READ_ONLY, MessageType, NAME_MAX, READDIR_CHUNK, TARGET_MAX } from "../protocol/messages";
import { forEachDirent, isDotOrDotDot } from "../server/dirents";
import { fstatatNoFollow, fstatFd, getdents64, readlinkAt, seekDirectory, STAT_SIZE } from "../server/host.native";
import { HostStat, onHostDevice, readHostStat } from "../server/hostStat";
import { readStat } from "../protocol/wireStat";
import type { Statfs } from "../protocol/wireStatfs";
import type { GoferConnection } from "./GoferConnection";
import type { GoferDirent } from "./GoferDirectory";
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
  /** The root's host device for statAt: undefined until looked up, null if it could not be. */
  private hostRootDevice: { low: number; high: number } | null | undefined;
  private readonly nameBuffer = Buffer.alloc(NAME_MAX + 1);
  private readonly linkBuffer = new Uint8Array(TARGET_MAX + 1);
  private readonly direntBuffer = new Uint8Array(READDIR_CHUNK);
  private readonly statBuffer = new Uint8Array(STAT_SIZE);
  private readonly statView = new DataView(this.statBuffer.buffer);

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

  /**
   * Stats `name` in the host directory `directoryFd` (from the gofer) without
   * following a final symbolic link. Returns its attributes, null if there
   * is no such name, or undefined when the gofer must be asked: another error,
   * or a file on another host device than the root, whose inode number the
   * gofer assigns.
   */
  statAt(directoryFd: number, name: string): Stat | null | undefined {
    return this.statName(directoryFd, this.terminated(name));
  }

  /** Implements statAt for a NUL-terminated name. */
  private statName(directoryFd: number, name: Uint8Array): Stat | null | undefined {
    const device = this.rootDevice();
    if (device === undefined) return undefined;
    const result = fstatatNoFollow(directoryFd, name, this.statBuffer);
    if (result === -Errno.ENOENT) return null;
    if (result < 0 || !onHostDevice(this.statView, device.low, device.high)) return undefined;
    return readHostStat(this.statView, this.dev);
  }

  /** Copies the byte string `name` (one character per byte) into the name buffer, NUL-terminated, and returns that. */
  private terminated(name: string | Uint8Array): Uint8Array {
    const buffer = this.nameBuffer;
    let length = name.length;
    if (typeof name === "string") length = buffer.write(name, "latin1");
    else buffer.set(name);
    buffer[length] = 0;
    return buffer.subarray(0, length + 1);
  }

  /**
   * Lists the host directory `directoryFd` (from the gofer), with each
   * entry's attributes as statAt reports them (null where the gofer must be
   * asked), in the host's order, without "." and "..". Returns undefined
   * when the gofer must list it: a directory on another host device than
   * the root, or a host error.
   */
  listAt(directoryFd: number): { entries: GoferDirent[]; attributes: Map<string, Stat | null> } | undefined {
    const device = this.rootDevice();
    if (device === undefined || fstatFd(directoryFd, this.statBuffer) !== 0 || !onHostDevice(this.statView, device.low, device.high)) return undefined;
    if (seekDirectory(directoryFd, 0n) !== 0) return undefined;
    const entries: GoferDirent[] = [];
    const attributes = new Map<string, Stat | null>();
    const buffer = this.direntBuffer;
    for (;;) {
      const length = getdents64(directoryFd, buffer);
      if (length < 0) return undefined;
      if (length === 0) break;
      forEachDirent(buffer, length, (dirent) => {
        if (isDotOrDotDot(dirent.name)) return;
        const name = Buffer.from(dirent.name.buffer, dirent.name.byteOffset, dirent.name.length).toString("latin1");
        entries.push({ name, ino: Number(dirent.ino), type: dirent.type });
        attributes.set(name, this.statName(directoryFd, this.terminated(dirent.name)) ?? null);
      });
    }
    return { entries, attributes };
  }

  /** Reads the symbolic link `name` in the host directory `directoryFd` (from the gofer); undefined if that fails. */
  linkAt(directoryFd: number, name: string): string | undefined {
    const length = readlinkAt(directoryFd, this.terminated(name), this.linkBuffer);
    if (length < 0 || length > TARGET_MAX) return undefined;
    return Buffer.from(this.linkBuffer.buffer, this.linkBuffer.byteOffset, length).toString("latin1");
  }

  /** The host device of the mount root, from a descriptor of it; undefined if the gofer gave none. */
  private rootDevice(): { low: number; high: number } | undefined {
    if (this.hostRootDevice !== undefined) return this.hostRootDevice ?? undefined;
    this.hostRootDevice = null;
    const directory = this.rootInode.hostDirectory();
    if (directory !== undefined && fstatFd(directory.fd, this.statBuffer) === 0) {
      this.hostRootDevice = { low: this.statView.getUint32(HostStat.DEV, true), high: this.statView.getUint32(HostStat.DEV + 4, true) };
    }
    return this.hostRootDevice ?? undefined;
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
