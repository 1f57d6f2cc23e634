import { Errno, SyscallError } from "@sandbox/abi";
import {
  type FileDescriptionImpl,
  type Inode,
  type Owner,
  type SetAttr,
  type Stat,
  O_ACCMODE,
  O_DSYNC,
  O_RDONLY,
  O_SYNC,
  S_IFDIR,
  S_IFMT,
  S_IFREG,
} from "@sandbox/vfs";
import { MessageType, NAME_MAX, READDIR_WITH_STAT, SetattrMask, TARGET_MAX } from "../protocol/messages";
import type { MessageReader } from "../protocol/MessageReader";
import type { MessageWriter } from "../protocol/MessageWriter";
import { readStat } from "../protocol/wireStat";
import { readStatfs, type Statfs } from "../protocol/wireStatfs";
import { GoferDirectory, type GoferDirent } from "./GoferDirectory";
import type { ReplyParser } from "./GoferConnection";
import type { GoferFileSystem } from "./GoferFileSystem";
import { GoferRegularFile } from "./GoferRegularFile";
import { SharedHostFd } from "./SharedHostFd";

const AT_REMOVEDIR = 0x200;

/**
 * A file of a gofer mount: a handle in the gofer. The attributes that
 * permission checks read (mode, uid, gid) are the ones of the last reply
 * about this file, and every stat() reads them afresh from the host,
 * unless the mount caches (GoferFileSystemOptions.cache). Then the inode
 * keeps every reply of the gofer, and a read-only open reuses a host
 * descriptor that the mount keeps.
 *
 * The handle is released in the gofer after this object is garbage-collected
 * (see GoferConnection.track).
 */
export class GoferInode implements Inode {
  mode: number;
  uid: number;
  gid: number;
  readonly ino: number;
  /** Cached replies of the gofer: undefined until first requested, and always on a mount that does not cache. */
  private cachedStat: Stat | undefined;
  private children: Map<string, GoferInode | null> | undefined;
  private linkTarget: string | undefined;
  private listing: readonly GoferDirent[] | undefined;

  /** The gofer's handle of this file, once it has one. */
  private handleNumber: number | undefined;
  /** Directory and name of a file listed with attributes but not walked yet; its handle comes from a WALK there. */
  private origin: { readonly parent: GoferInode; readonly name: string } | undefined;
  /** A caching mount's full listing of this directory: the attributes of each name, null where the gofer had none. */
  private entries: Map<string, Stat | null> | undefined;

  constructor(
    readonly fs: GoferFileSystem,
    /** The gofer's handle number of this file; undefined for a file a listing reported (then `origin` is given). */
    handle: number | undefined,
    stat: Stat,
    origin?: { readonly parent: GoferInode; readonly name: string },
  ) {
    this.mode = stat.mode;
    this.uid = stat.uid;
    this.gid = stat.gid;
    this.ino = stat.ino;
    if (fs.cached) this.cachedStat = { ...stat };
    if (handle !== undefined) {
      this.handleNumber = handle;
      fs.connection.track(this, handle);
    } else if (origin !== undefined) {
      this.origin = origin;
    } else {
      throw new RangeError("a gofer inode needs a handle or an origin");
    }
  }

  /**
   * The gofer's handle number of this file. A file that a listing reported
   * gets it now, with a WALK from its directory. Read it before a request
   * is built, never inside: the walk is a request of its own.
   */
  get handle(): number {
    if (this.handleNumber !== undefined) return this.handleNumber;
    const { parent, name } = this.origin as NonNullable<typeof this.origin>;
    const parentHandle = parent.handle;
    const handle = this.fs.connection.request(
      MessageType.WALK,
      (writer) => writer.u32(parentHandle).byteString(name),
      (reader) => {
        const walked = reader.u32();
        reader.skip(4);
        readStat(reader, this.fs.dev);
        return walked;
      },
    );
    this.handleNumber = handle;
    this.origin = undefined;
    this.fs.connection.track(this, handle);
    return handle;
  }

  stat(): Stat {
    if (this.cachedStat !== undefined && this.cacheUsable()) return { ...this.cachedStat };
    const handle = this.handle;
    const stat = this.fs.connection.request(
      MessageType.STAT,
      (writer) => writer.u32(handle),
      (reader) => readStat(reader, this.fs.dev),
    );
    this.refresh(stat);
    return stat;
  }

  lookup(name: string): Inode | undefined {
    checkName(name);
    const known = this.children?.get(name);
    if (known !== undefined && this.cacheUsable()) return known ?? undefined;
    const listed = this.entries !== undefined && this.cacheUsable() ? this.entries.get(name) : undefined;
    if (this.entries !== undefined && listed !== null) {
      // The full listing decides: a name it lacks does not exist, and a
      // listed one needs no WALK until something needs its handle.
      const found = listed === undefined ? null : new GoferInode(this.fs, undefined, listed, { parent: this, name });
      (this.children ??= new Map()).set(name, found);
      return found ?? undefined;
    }
    const local = this.lookupOnHost(name);
    if (local !== undefined) {
      (this.children ??= new Map()).set(name, local);
      return local ?? undefined;
    }
    const handle = this.handle;
    let child: GoferInode | null;
    try {
      child = this.fs.connection.request(
        MessageType.WALK,
        (writer) => writer.u32(handle).byteString(name),
        (reader) => this.newInode(reader),
      );
    } catch (error) {
      if (!(error instanceof SyscallError && error.errno === Errno.ENOENT)) throw error;
      child = null;
    }
    if (this.fs.cached) (this.children ??= new Map()).set(name, child);
    return child ?? undefined;
  }

  /**
   * Looks `name` up on a caching mount with fstatat on a host descriptor of
   * this directory, which the gofer opened, instead of a WALK round trip, as
   * gVisor's directfs does. The name is one component and a final symbolic
   * link is not followed, so the result stays inside the mount. Returns the
   * inode (its handle comes with a WALK when something needs it), null
   * when the name does not exist, or undefined when the gofer must be asked.
   */
  private lookupOnHost(name: string): GoferInode | null | undefined {
    if (!this.fs.cached || name === "." || name === ".." || name.includes("/")) return undefined;
    const directory = this.hostDirectory();
    if (directory === undefined) return undefined;
    const stat = this.fs.statAt(directory.fd, name);
    if (stat === undefined || stat === null) return stat;
    return new GoferInode(this.fs, undefined, stat, { parent: this, name });
  }

  /**
   * Returns the host descriptor of this directory that a caching mount
   * keeps for read-only opens, opening it through the gofer first if
   * needed. Returns undefined where there is none: on a mount that does not
   * cache, for a file that is no directory, or when the gofer may not read it.
   */
  hostDirectory(): SharedHostFd | undefined {
    if (!this.fs.cached || (this.mode & S_IFMT) !== S_IFDIR) return undefined;
    const shared = this.fs.sharedFd(this);
    if (shared !== undefined && this.cacheUsable()) return shared;
    try {
      return this.requestOpen(
        O_RDONLY,
        (reader, fd) => {
          const stat = readStat(reader, this.fs.dev);
          if (fd < 0) throw new SyscallError(Errno.EIO, "gofer OPEN replied without a descriptor");
          this.refresh(stat);
          const shared = new SharedHostFd(fd);
          this.fs.keepSharedFd(this, shared);
          return shared;
        },
      );
    } catch (error) {
      // A directory the gofer may search but not read: its WALKs still work.
      if (error instanceof SyscallError && error.errno === Errno.EACCES) return undefined;
      throw error;
    }
  }

  /**
   * Sends an open of this file with `flags` and parses the reply. A file
   * with a handle gets an OPEN of it. One without (listed, or found with
   * fstatat) gets an OPENAT of its path below the nearest directory that
   * has one, which spares a WALK per name on the way.
   */
  private requestOpen<T>(flags: number, parse: ReplyParser<T>): T {
    if (this.handleNumber === undefined) {
      const names: string[] = [];
      let node: GoferInode = this;
      while (node.handleNumber === undefined && node.origin !== undefined) {
        names.push(node.origin.name);
        node = node.origin.parent;
      }
      const base = node.handleNumber;
      const path = names.reverse().join("/");
      if (base !== undefined && path.length <= TARGET_MAX) {
        return this.fs.connection.request(MessageType.OPENAT, (writer) => writer.u32(base).u32(flags).byteString(path), parse);
      }
    }
    const handle = this.handle;
    return this.fs.connection.request(MessageType.OPEN, (writer) => writer.u32(handle).u32(flags), parse);
  }

  readlink(): string {
    if (this.linkTarget !== undefined && this.cacheUsable()) return this.linkTarget;
    // A link found without a WALK is read in its directory, which spares one.
    const directory = this.fs.cached && this.handleNumber === undefined ? this.origin?.parent.hostDirectory() : undefined;
    const local = directory !== undefined ? this.fs.linkAt(directory.fd, (this.origin as NonNullable<typeof this.origin>).name) : undefined;
    if (local !== undefined) {
      this.linkTarget = local;
      return local;
    }
    const handle = this.handle;
    const target = this.fs.connection.request(
      MessageType.READLINK,
      (writer) => writer.u32(handle),
      (reader) => reader.byteString(reader.remaining),
    );
    if (this.fs.cached) this.linkTarget = target;
    return target;
  }

  open(flags: number): FileDescriptionImpl {
    const shareable = this.fs.cached && (flags & O_ACCMODE) === O_RDONLY && (flags & (O_SYNC | O_DSYNC)) === 0;
    const cachedFd = shareable ? this.fs.sharedFd(this) : undefined;
    if (cachedFd !== undefined && this.cacheUsable()) return this.openFile(this.mode, cachedFd.hold());
    return this.requestOpen(
      flags,
      (reader, fd) => {
        const stat = readStat(reader, this.fs.dev);
        if (fd < 0) {
          throw new SyscallError(Errno.EIO, "gofer OPEN replied without a descriptor");
        }
        this.refresh(stat);
        if (!shareable) return this.openFile(stat.mode, fd);
        const shared = new SharedHostFd(fd);
        try {
          return this.openFile(stat.mode, shared.hold());
        } finally {
          this.fs.keepSharedFd(this, shared);
        }
      },
    );
  }

  private openFile(mode: number, descriptor: number | SharedHostFd): FileDescriptionImpl {
    switch (mode & S_IFMT) {
      case S_IFREG:
        // On a caching mount the file cannot change, and this inode names its content.
        return new GoferRegularFile(descriptor, this.fs.dev, this.ino, this.fs.cached ? this : undefined);
      case S_IFDIR:
        return new GoferDirectory(this, descriptor);
      default:
        throw new SyscallError(Errno.EIO, `gofer OPEN returned a file of mode 0o${mode.toString(8)}`);
    }
  }

  create(name: string, mode: number, owner: Owner): Inode {
    return this.createEntry(MessageType.CREATE, name, mode, owner);
  }

  mkdir(name: string, mode: number, owner: Owner): Inode {
    return this.createEntry(MessageType.MKDIR, name, mode, owner);
  }

  mknod(_name: string, _mode: number, _rdev: number, _owner: Owner): Inode {
    // NOTE: device nodes, FIFOs and sockets are never created on the host.
    throw new SyscallError(Errno.EPERM, "mknod on a gofer mount");
  }

  symlink(name: string, target: string, owner: Owner): Inode {
    checkName(name);
    if (target.length > TARGET_MAX) {
      throw new SyscallError(Errno.ENAMETOOLONG);
    }
    checkByteString(target);
    const handle = this.handle;
    return this.fs.connection.request(
      MessageType.SYMLINK,
      (writer) => writer.u32(handle).u32(owner.uid).u32(owner.gid).u16(name.length).u16(0).byteString(name).byteString(target),
      (reader) => this.newInode(reader),
    );
  }

  link(name: string, target: Inode): void {
    checkName(name);
    const targetHandle = this.sameFileSystem(target).handle;
    const handle = this.handle;
    this.fs.connection.request(
      MessageType.LINK,
      (writer) => writer.u32(handle).u32(targetHandle).byteString(name),
      () => undefined,
    );
  }

  unlink(name: string): void {
    this.remove(name, 0);
  }

  rmdir(name: string): void {
    this.remove(name, AT_REMOVEDIR);
  }

  rename(oldName: string, newParent: Inode, newName: string, flags: number): void {
    checkName(oldName);
    checkName(newName);
    const parentHandle = this.sameFileSystem(newParent).handle;
    const handle = this.handle;
    this.fs.connection.request(
      MessageType.RENAME,
      (writer) =>
        writer.u32(handle).u32(parentHandle).u32(flags).u16(oldName.length).u16(0).byteString(oldName).byteString(newName),
      () => undefined,
    );
  }

  setattr(attr: SetAttr): void {
    if (attr.size !== undefined && (!Number.isSafeInteger(attr.size) || attr.size < 0)) {
      throw new SyscallError(Errno.EINVAL, `invalid size ${attr.size}`);
    }
    const handle = this.handle;
    const stat = this.fs.connection.request(
      MessageType.SETATTR,
      (writer) => writeSetattr(writer, handle, attr),
      (reader) => readStat(reader, this.fs.dev),
    );
    this.refresh(stat);
  }

  /** Returns the file system statistics of the host file system of this file (statfs(2)). */
  statfs(): Statfs {
    const handle = this.handle;
    return this.fs.connection.request(MessageType.STATFS, (writer) => writer.u32(handle), readStatfs);
  }

  /**
   * Fetches the whole listing of this directory, in the host's order,
   * without "." and "..". A caching mount requests every entry's
   * attributes too, and serves later lookups in the directory from them.
   */
  list(): readonly GoferDirent[] {
    if (this.listing !== undefined && this.cacheUsable()) return this.listing;
    // A caching mount lists in the Sentry, through the directory's host descriptor.
    const directory = this.hostDirectory();
    const local = directory !== undefined ? this.fs.listAt(directory.fd) : undefined;
    if (local !== undefined) {
      this.listing = local.entries;
      this.entries = local.attributes;
      return local.entries;
    }
    const withStat = this.fs.cached;
    const handle = this.handle;
    const entries: GoferDirent[] = [];
    const attributes = withStat ? new Map<string, Stat | null>() : undefined;
    let position = 0n;
    let done = false;
    while (!done) {
      this.fs.connection.request(
        MessageType.READDIR,
        (writer) => writer.u32(handle).u32(withStat ? READDIR_WITH_STAT : 0).i64(position),
        (reader) => {
          const count = reader.u32();
          done = (reader.u32() & 1) !== 0;
          position = reader.i64();
          for (let i = 0; i < count; i++) {
            const ino = Number(reader.u64());
            const type = reader.u8();
            const name = reader.byteString(reader.u8());
            entries.push({ name, ino, type });
            if (attributes !== undefined) {
              const stat = readStat(reader, this.fs.dev);
              // Mode 0: the gofer could not stat the entry; a lookup walks to it.
              attributes.set(name, stat.mode === 0 ? null : stat);
            }
          }
        },
      );
    }
    if (this.fs.cached) {
      this.listing = entries;
      this.entries = attributes;
    }
    return entries;
  }

  private createEntry(type: MessageType.CREATE | MessageType.MKDIR, name: string, mode: number, owner: Owner): Inode {
    checkName(name);
    const handle = this.handle;
    return this.fs.connection.request(
      type,
      (writer) => writer.u32(handle).u32(mode).u32(owner.uid).u32(owner.gid).byteString(name),
      (reader) => this.newInode(reader),
    );
  }

  private remove(name: string, flags: number): void {
    checkName(name);
    const handle = this.handle;
    this.fs.connection.request(
      MessageType.UNLINK,
      (writer) => writer.u32(handle).u32(flags).byteString(name),
      () => undefined,
    );
  }

  /**
   * Reports whether cached replies may still be used, which is while the
   * gofer is connected. Otherwise it throws EIO, as an uncached mount fails
   * every operation once the gofer is gone.
   */
  private cacheUsable(): boolean {
    if (!this.fs.connection.connected) throw new SyscallError(Errno.EIO, "the gofer is gone");
    return true;
  }

  /** Decodes a reply that carries a new handle and its attributes. */
  private newInode(reader: MessageReader): GoferInode {
    const handle = reader.u32();
    reader.skip(4);
    return new GoferInode(this.fs, handle, readStat(reader, this.fs.dev));
  }

  private sameFileSystem(inode: Inode): GoferInode {
    if (!(inode instanceof GoferInode) || inode.fs !== this.fs) {
      throw new SyscallError(Errno.EXDEV);
    }
    return inode;
  }

  private refresh(stat: Stat): void {
    this.mode = stat.mode;
    this.uid = stat.uid;
    this.gid = stat.gid;
    if (this.fs.cached) this.cachedStat = { ...stat };
  }
}

/** Throws ENAMETOOLONG for a name longer than NAME_MAX and EINVAL for one that is not a byte string. */
function checkName(name: string): void {
  if (name.length > NAME_MAX) {
    throw new SyscallError(Errno.ENAMETOOLONG);
  }
  checkByteString(name);
}

function checkByteString(value: string): void {
  for (let i = 0; i < value.length; i++) {
    if (value.charCodeAt(i) > 0xff) {
      throw new SyscallError(Errno.EINVAL, "name is not a byte string");
    }
  }
}

/** Writes the body of a SETATTR request. */
function writeSetattr(writer: MessageWriter, handle: number, attr: SetAttr): void {
  let mask = 0;
  if (attr.mode !== undefined) mask |= SetattrMask.MODE;
  if (attr.uid !== undefined) mask |= SetattrMask.UID;
  if (attr.gid !== undefined) mask |= SetattrMask.GID;
  if (attr.size !== undefined) mask |= SetattrMask.SIZE;
  if (attr.atime !== undefined) mask |= SetattrMask.ATIME;
  if (attr.mtime !== undefined) mask |= SetattrMask.MTIME;
  writer
    .u32(handle)
    .u32(mask)
    .u32(attr.mode ?? 0)
    .u32(attr.uid ?? 0)
    .u32(attr.gid ?? 0)
    .u32(0)
    .u64(attr.size ?? 0)
    .i64(attr.atime?.sec ?? 0)
    .i64(attr.mtime?.sec ?? 0)
    .u32(attr.atime?.nsec ?? 0)
    .u32(attr.mtime?.nsec ?? 0);
}
