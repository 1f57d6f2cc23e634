import {
  type BigIntStats,
  closeSync,
  constants as hostConstants,
  fstatSync,
  lstatSync,
  opendirSync,
  openSync,
  readSync,
  readlinkSync,
  realpathSync,
} from "node:fs";
import { Errno, SyscallError } from "@sandbox/abi";
import {
  DT_BLK,
  DT_CHR,
  DT_DIR,
  DT_FIFO,
  DT_LNK,
  DT_REG,
  DT_SOCK,
  DT_UNKNOWN,
  O_ACCMODE,
  O_RDONLY,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  S_IFSOCK,
} from "../constants";
import type { DirentEmitter, FileDescriptionImpl, FileSystem, Inode } from "../FileSystem";
import type { Owner, SetAttr, Stat } from "../Stat";
import { hostCall } from "./hostErrors";
import { statFromHost } from "./hostStat";

/** Inode numbers handed to files on other host devices than the root's start here. */
const FOREIGN_INO_BASE = 2 ** 52;

/** Host open flags for a regular file: read-only, O_NOFOLLOW, O_NONBLOCK (so a FIFO swapped in cannot block) and O_NOCTTY. */
const HOST_OPEN_FLAGS =
  hostConstants.O_RDONLY | hostConstants.O_NOFOLLOW | hostConstants.O_NONBLOCK | hostConstants.O_NOCTTY;

/** Options of a HostFileSystem. */
export interface HostFileSystemOptions {
  /** st_dev of its inodes. Use VirtualFileSystem.allocateDevice. */
  dev: number;
}

/** Converts a byte string (one character per byte) to the Buffer path that node:fs takes. */
function hostPathBuffer(path: string): Buffer {
  return Buffer.from(path, "latin1");
}

/**
 * A host directory tree served read-only through Node's synchronous fs calls.
 * The gofer will replace it behind the same FileSystem interface.
 *
 * Only regular files and directories are opened on the host. Opening a host
 * device node or FIFO fails with EACCES, which Linux returns for a device
 * node on a nodev mount. Opening a host socket fails with ENXIO, as Linux
 * does for any socket. A file that turns into another type between the
 * lookup and the host open is closed again at once. Every write fails with
 * EROFS.
 *
 * Inode numbers are the host's for files on the device of the host root.
 * Files on other host devices (host mounts below the root) get numbers from
 * FOREIGN_INO_BASE up, so two host devices never share a number here.
 *
 * NOTE: calls go by host path, so a host directory replaced by a symbolic
 * link between the lookup and the next call is followed on the host. The
 * gofer will walk with openat relative to descriptors instead.
 */
export class HostFileSystem implements FileSystem {
  readonly type = "hostfs";
  readonly readOnly = true;
  readonly dev: number;
  private readonly rootDev: bigint;
  private readonly foreignInos = new Map<string, number>();
  private readonly rootInode: HostInode;

  /** Serves the host directory `hostRoot`, a UTF-8 path whose symbolic links are resolved once, here. */
  constructor(hostRoot: string, options: HostFileSystemOptions) {
    this.dev = options.dev;
    const resolved = hostCall(() => realpathSync(hostRoot, { encoding: "buffer" }));
    const attributes = hostCall(() => lstatSync(resolved, { bigint: true }));
    if (!attributes.isDirectory()) {
      throw new SyscallError(Errno.ENOTDIR, `host root ${hostRoot} is not a directory`);
    }
    this.rootDev = attributes.dev;
    this.rootInode = new HostInode(this, resolved.toString("latin1"), attributes);
  }

  root(): Inode {
    return this.rootInode;
  }

  /** Returns the inode number that the sandbox shows for the host attributes `host`. */
  inoOf(host: BigIntStats): number {
    if (host.dev === this.rootDev) {
      return Number(host.ino);
    }
    const key = `${host.dev}:${host.ino}`;
    let ino = this.foreignInos.get(key);
    if (ino === undefined) {
      ino = FOREIGN_INO_BASE + this.foreignInos.size;
      this.foreignInos.set(key, ino);
    }
    return ino;
  }
}

/** A host file, named by its host path (a byte string). */
class HostInode implements Inode {
  mode: number;
  uid: number;
  gid: number;
  ino: number;

  constructor(
    readonly fs: HostFileSystem,
    readonly hostPath: string,
    attributes: BigIntStats,
  ) {
    this.mode = Number(attributes.mode);
    this.uid = Number(attributes.uid);
    this.gid = Number(attributes.gid);
    this.ino = fs.inoOf(attributes);
  }

  stat(): Stat {
    const attributes = hostCall(() => lstatSync(hostPathBuffer(this.hostPath), { bigint: true }));
    this.mode = Number(attributes.mode);
    this.uid = Number(attributes.uid);
    this.gid = Number(attributes.gid);
    return statFromHost(attributes, this.fs.dev, this.fs.inoOf(attributes));
  }

  lookup(name: string): Inode | undefined {
    const childPath = this.hostPath === "/" ? `/${name}` : `${this.hostPath}/${name}`;
    const attributes = hostCall(() =>
      lstatSync(hostPathBuffer(childPath), { bigint: true, throwIfNoEntry: false }),
    );
    return attributes === undefined ? undefined : new HostInode(this.fs, childPath, attributes);
  }

  readlink(): string {
    if ((this.mode & S_IFMT) !== S_IFLNK) {
      throw new SyscallError(Errno.EINVAL);
    }
    return hostCall(() => readlinkSync(hostPathBuffer(this.hostPath), { encoding: "buffer" })).toString("latin1");
  }

  open(flags: number): FileDescriptionImpl {
    if ((flags & O_ACCMODE) !== O_RDONLY) {
      throw new SyscallError(Errno.EROFS);
    }
    switch (this.mode & S_IFMT) {
      case S_IFREG:
        return openHostRegularFile(this);
      case S_IFDIR:
        return new HostDirectory(this);
      case S_IFLNK:
        throw new SyscallError(Errno.ELOOP);
      case S_IFSOCK:
        throw new SyscallError(Errno.ENXIO, "host sockets cannot be opened");
      default:
        throw new SyscallError(Errno.EACCES, "host device nodes and FIFOs cannot be opened");
    }
  }

  create(_name: string, _mode: number, _owner: Owner): Inode {
    throw new SyscallError(Errno.EROFS);
  }

  mkdir(_name: string, _mode: number, _owner: Owner): Inode {
    throw new SyscallError(Errno.EROFS);
  }

  mknod(_name: string, _mode: number, _rdev: number, _owner: Owner): Inode {
    throw new SyscallError(Errno.EROFS);
  }

  symlink(_name: string, _target: string, _owner: Owner): Inode {
    throw new SyscallError(Errno.EROFS);
  }

  link(_name: string, _target: Inode): void {
    throw new SyscallError(Errno.EROFS);
  }

  unlink(_name: string): void {
    throw new SyscallError(Errno.EROFS);
  }

  rmdir(_name: string): void {
    throw new SyscallError(Errno.EROFS);
  }

  rename(_oldName: string, _newParent: Inode, _newName: string, _flags: number): void {
    throw new SyscallError(Errno.EROFS);
  }

  setattr(_attr: SetAttr): void {
    throw new SyscallError(Errno.EROFS);
  }
}

/**
 * Opens a host regular file and checks that what got opened is still a
 * regular file, so a file swapped for a FIFO or device after the lookup is
 * closed again (O_NONBLOCK keeps such an open from blocking).
 */
function openHostRegularFile(inode: HostInode): HostRegularFile {
  const fd = hostCall(() => openSync(hostPathBuffer(inode.hostPath), HOST_OPEN_FLAGS));
  try {
    const attributes = hostCall(() => fstatSync(fd, { bigint: true }));
    if (!attributes.isFile()) {
      throw new SyscallError(Errno.EACCES, "host file changed type after the lookup");
    }
    return new HostRegularFile(inode.fs, fd);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** An open host regular file, read through its host descriptor. */
class HostRegularFile implements FileDescriptionImpl {
  readonly seekable = true;

  constructor(
    private readonly fs: HostFileSystem,
    readonly hostFd: number,
  ) {}

  read(dst: Uint8Array, offset: number): number {
    return hostCall(() => readSync(this.hostFd, dst, 0, dst.length, offset));
  }

  write(_src: Uint8Array, _offset: number): number {
    throw new SyscallError(Errno.EROFS);
  }

  stat(): Stat {
    const attributes = hostCall(() => fstatSync(this.hostFd, { bigint: true }));
    return statFromHost(attributes, this.fs.dev, this.fs.inoOf(attributes));
  }

  truncate(_size: number): void {
    throw new SyscallError(Errno.EROFS);
  }

  release(): void {
    closeSync(this.hostFd);
  }
}

/** A directory entry as listed from the host. */
interface HostDirent {
  name: string;
  type: number;
}

/**
 * An open host directory. The listing is read from the host when the cursor
 * is 0 (at the start and after a rewind) and kept until the next rewind, so
 * cursors are indexes into that listing and stay valid across getdents64
 * calls. Entries come in the order the host's getdents64 returns them, the
 * order that find(1) and `ls -U` show on the host.
 */
class HostDirectory implements FileDescriptionImpl {
  readonly seekable = true;
  private listing: HostDirent[] | undefined;

  constructor(private readonly inode: HostInode) {}

  read(_dst: Uint8Array, _offset: number): number {
    throw new SyscallError(Errno.EISDIR);
  }

  write(_src: Uint8Array, _offset: number): number {
    throw new SyscallError(Errno.EISDIR);
  }

  stat(): Stat {
    return this.inode.stat();
  }

  readdir(cursor: number, emit: DirentEmitter): void {
    if (cursor === 0 || this.listing === undefined) {
      this.listing = this.readListing();
    }
    for (let index = cursor; index < this.listing.length; index++) {
      const { name, type } = this.listing[index];
      const child = this.inode.lookup(name);
      if (child === undefined) {
        continue;
      }
      if (!emit(name, child.ino, type, index + 1)) {
        return;
      }
    }
  }

  release(): void {}

  private readListing(): HostDirent[] {
    // fs.readdirSync sorts the names (libuv scandir), while a Dir reads them
    // in getdents64 order. Node accepts the "buffer" encoding here and returns
    // names as Buffers, but @types/node does not declare it.
    const options = { encoding: "buffer" as BufferEncoding };
    const dir = hostCall(() => opendirSync(hostPathBuffer(this.inode.hostPath), options));
    const listing: HostDirent[] = [];
    try {
      for (;;) {
        const entry = hostCall(() => dir.readSync());
        if (entry === null) {
          break;
        }
        const name = entry.name as unknown as Buffer;
        listing.push({ name: name.toString("latin1"), type: direntType(entry) });
      }
    } finally {
      dir.closeSync();
    }
    return listing;
  }
}

function direntType(entry: {
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
}): number {
  if (entry.isFile()) return DT_REG;
  if (entry.isDirectory()) return DT_DIR;
  if (entry.isSymbolicLink()) return DT_LNK;
  if (entry.isCharacterDevice()) return DT_CHR;
  if (entry.isBlockDevice()) return DT_BLK;
  if (entry.isFIFO()) return DT_FIFO;
  if (entry.isSocket()) return DT_SOCK;
  return DT_UNKNOWN;
}
