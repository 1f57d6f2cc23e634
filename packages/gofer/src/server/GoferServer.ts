import {
  type BigIntStats,
  chmodSync,
  closeSync,
  constants as hostConstants,
  fstatSync,
  openSync,
  truncateSync,
} from "node:fs";
import { Errno } from "@sandbox/abi";
import {
  ATTACH_READ_ONLY,
  LAST_MESSAGE_TYPE,
  MessageType,
  messageTypeName,
  NAME_MAX,
  READDIR_CHUNK,
  READDIR_STAT_CHUNK,
  READDIR_WITH_STAT,
  RELEASE_MAX,
  ROOT_HANDLE,
  SetattrMask,
  TARGET_MAX,
} from "../protocol/messages";
import { MessageReader, MessageTooShortError } from "../protocol/MessageReader";
import type { MessageWriter } from "../protocol/MessageWriter";
import { WIRE_STAT_SIZE } from "../protocol/wireStat";
import { writeStatfs } from "../protocol/wireStatfs";
import { forEachDirent, isDotOrDotDot } from "./dirents";
import { HostStat, writeHostStat } from "./hostStat";
import { checkResult, errnoOf, GoferError } from "./GoferError";
import { HandleTable, type HostHandle } from "./HandleTable";
import {
  fchownFd,
  fstatfs,
  getdents64,
  linkat,
  mkdirat,
  openat2,
  readlinkFd,
  renameat2,
  STATFS_SIZE,
  STAT_SIZE,
  fstatatNoFollow,
  fstatFd,
  seekDirectory,
  symlinkat,
  unlinkat,
  utimensFd,
} from "./host.native";
import { InodeNumbers } from "./InodeNumbers";

/** The attributes of a READDIR entry that fstatat could not report. */
const ZERO_WIRE_STAT = new Uint8Array(WIRE_STAT_SIZE);

const O_PATH = 0o10000000;
const O_CLOEXEC = 0o2000000;
const O_ACCMODE = 3;
const RESOLVE_NO_MAGICLINKS = 0x02;
const RESOLVE_NO_SYMLINKS = 0x04;
const RESOLVE_IN_ROOT = 0x10;
const AT_REMOVEDIR = 0x200;
const AT_SYMLINK_FOLLOW = 0x400;
const RENAME_ALL = 0x1 | 0x2 | 0x4;
const UTIME_OMIT = (1 << 30) - 2;
const S_IALLUGO = 0o7777;
const S_ISUGID = 0o6000;

/**
 * How every name from a client is resolved: one component below a
 * directory descriptor, no symbolic link followed (a final one is opened
 * itself with O_PATH | O_NOFOLLOW), no /proc magic link, never above the
 * directory.
 */
const RESOLVE_NAME = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS;

/** Open flags of a walk: a descriptor that names the file without opening it, so no device driver runs. */
const WALK_FLAGS = O_PATH | hostConstants.O_NOFOLLOW | O_CLOEXEC;

/** Open flags of CREATE: a new file only, never through a symbolic link. */
const CREATE_FLAGS =
  hostConstants.O_CREAT |
  hostConstants.O_EXCL |
  hostConstants.O_RDONLY |
  hostConstants.O_NOFOLLOW |
  hostConstants.O_NOCTTY |
  O_CLOEXEC;

/** Open flags that an OPEN request may pass through to the host, besides the access mode. */
const OPEN_PASSED_FLAGS = hostConstants.O_SYNC | hostConstants.O_DSYNC;

/** Options of a GoferServer. */
export interface GoferServerOptions {
  /** The host directory served as the mount root. */
  root: string;
  /** Serve the mount read-only: every change fails with EROFS and files open only for reading. */
  readOnly: boolean;
}

/**
 * Serves gofer requests for one mount: decodes a request, runs it on the
 * host and encodes the reply. It keeps the client's handles. The socket
 * loop around it is serveGofer.
 *
 * Every client name is resolved below a descriptor with openat2 (see
 * RESOLVE_NAME), so no walk leaves the mount root. The gofer checks no
 * permission: the client does, with the owners and modes it reports. It
 * never opens a host device node, FIFO or socket. OPEN fails with EACCES for
 * device nodes (as Linux does on a nodev mount) and FIFOs, and with ENXIO for
 * sockets (what open(2) of a socket returns).
 *
 * Open descriptors are reopened through /proc/self/fd/N of the handle's
 * O_PATH descriptor, so the gofer needs /proc mounted.
 */
export class GoferServer {
  private readonly handles: HandleTable;
  private readonly inodes: InodeNumbers;
  private readonly readOnly: boolean;
  private readonly direntBuffer = new Uint8Array(READDIR_CHUNK);
  private readonly linkBuffer = new Uint8Array(TARGET_MAX + 1);
  private readonly statfsBuffer = new Uint8Array(STATFS_SIZE);
  private readonly statBuffer = new Uint8Array(STAT_SIZE);
  private readonly statView = new DataView(this.statBuffer.buffer);
  private readonly nameBuffer = new Uint8Array(NAME_MAX + 1);

  /** Opens the mount root. Throws a GoferError when it is missing or not a directory. */
  constructor(options: GoferServerOptions) {
    this.readOnly = options.readOnly;
    let rootFd: number;
    try {
      rootFd = openSync(options.root, O_PATH | hostConstants.O_DIRECTORY);
    } catch (error) {
      throw new GoferError(errnoOf(error) ?? Errno.EIO, `cannot open the mount root ${options.root}: ${String(error)}`);
    }
    const attributes = fstatSync(rootFd, { bigint: true });
    this.handles = new HandleTable(rootFd, attributes);
    this.inodes = new InodeNumbers(attributes.dev);
  }

  /** Number of open handles, the root included. */
  get handleCount(): number {
    return this.handles.size;
  }

  /**
   * Handles one request and writes its reply with `reply`. Returns the
   * descriptor to send with the reply, or -1. The caller closes that
   * descriptor after sending it.
   */
  handle(request: MessageReader, reply: MessageWriter): number {
    const type = request.type;
    reply.start(type, 0, request.tag);
    try {
      if (type < MessageType.ATTACH || type > LAST_MESSAGE_TYPE) {
        throw new GoferError(Errno.ENOSYS, `unknown message type ${type}`);
      }
      if (this.readOnly && isChange(type)) {
        throw new GoferError(Errno.EROFS);
      }
      return this.dispatch(type, request, reply);
    } catch (error) {
      let errno = errnoOf(error);
      if (error instanceof MessageTooShortError) {
        errno = Errno.EINVAL;
      } else if (errno === undefined) {
        console.error(`gofer: ${messageTypeName(type)} failed with an unexpected error, replying EIO:`, error);
        errno = Errno.EIO;
      }
      reply.start(type, errno, request.tag);
      return -1;
    }
  }

  /** Closes every handle. */
  close(): void {
    this.handles.closeAll();
  }

  private dispatch(type: MessageType, request: MessageReader, reply: MessageWriter): number {
    switch (type) {
      case MessageType.ATTACH:
        return this.attach(reply);
      case MessageType.WALK:
        return this.walk(request, reply);
      case MessageType.STAT:
        this.writeStatOf(reply, this.handles.get(request.u32()).fd);
        return -1;
      case MessageType.OPEN:
        return this.open(request, reply);
      case MessageType.READDIR:
        return this.readdir(request, reply);
      case MessageType.READLINK:
        return this.readlink(request, reply);
      case MessageType.STATFS:
        checkResult(fstatfs(this.handles.get(request.u32()).fd, this.statfsBuffer), "fstatfs");
        writeStatfs(reply, this.statfsBuffer);
        return -1;
      case MessageType.CREATE:
        return this.create(request, reply);
      case MessageType.MKDIR:
        return this.mkdir(request, reply);
      case MessageType.SYMLINK:
        return this.symlink(request, reply);
      case MessageType.LINK:
        return this.link(request);
      case MessageType.UNLINK:
        return this.unlink(request);
      case MessageType.RENAME:
        return this.rename(request);
      case MessageType.SETATTR:
        return this.setattr(request, reply);
      case MessageType.RELEASE:
        return this.release(request);
      case MessageType.OPENAT:
        return this.openAt(request, reply);
    }
  }

  private attach(reply: MessageWriter): number {
    reply.u32(ROOT_HANDLE).u32(this.readOnly ? ATTACH_READ_ONLY : 0);
    this.writeStatOf(reply, this.handles.get(ROOT_HANDLE).fd);
    return -1;
  }

  private walk(request: MessageReader, reply: MessageWriter): number {
    const directory = this.handles.get(request.u32());
    const name = readName(request, request.remaining);
    const fd = checkResult(openat2(directory.fd, name, WALK_FLAGS, 0, RESOLVE_NAME), "openat2");
    this.replyNewHandle(reply, fd);
    return -1;
  }

  private open(request: MessageReader, reply: MessageWriter): number {
    const entry = this.handles.get(request.u32());
    return this.openFile(entry.fd, request.u32(), reply);
  }

  /**
   * Opens the file at a relative path below a directory as OPEN opens a
   * handle, without making a handle of it. No component of the path may be
   * a symbolic link, "." or "..", so the path resolves as WALKs of its
   * names would.
   */
  private openAt(request: MessageReader, reply: MessageWriter): number {
    const directory = this.handles.get(request.u32());
    const flags = request.u32();
    const path = readRelativePath(request);
    const pathFd = checkResult(openat2(directory.fd, path, WALK_FLAGS, 0, RESOLVE_NAME), "openat2");
    try {
      return this.openFile(pathFd, flags, reply);
    } finally {
      closeSync(pathFd);
    }
  }

  /** Reopens the file of the O_PATH descriptor `pathFd` with `flags`, replies with its attributes, and returns the descriptor to send. */
  private openFile(pathFd: number, flags: number, reply: MessageWriter): number {
    const accessMode = flags & O_ACCMODE;
    if (accessMode === O_ACCMODE) {
      throw new GoferError(Errno.EINVAL, "invalid access mode 3");
    }
    if (this.readOnly && accessMode !== hostConstants.O_RDONLY) {
      throw new GoferError(Errno.EROFS);
    }

    const attributes = fstatSync(pathFd, { bigint: true });
    let hostFlags = accessMode | (flags & OPEN_PASSED_FLAGS) | hostConstants.O_NOCTTY;
    switch (Number(attributes.mode) & hostConstants.S_IFMT) {
      case hostConstants.S_IFREG:
        break;
      case hostConstants.S_IFDIR:
        if (accessMode !== hostConstants.O_RDONLY) {
          throw new GoferError(Errno.EISDIR);
        }
        hostFlags |= hostConstants.O_DIRECTORY;
        break;
      case hostConstants.S_IFLNK:
        throw new GoferError(Errno.ELOOP);
      case hostConstants.S_IFSOCK:
        throw new GoferError(Errno.ENXIO, "host sockets are never opened");
      default:
        throw new GoferError(Errno.EACCES, "host device nodes and FIFOs are never opened");
    }

    const fd = reopen(pathFd, hostFlags);
    try {
      this.writeStatOf(reply, fd);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    return fd;
  }

  private readdir(request: MessageReader, reply: MessageWriter): number {
    const entry = this.handles.get(request.u32());
    const withStat = (request.u32() & READDIR_WITH_STAT) !== 0;
    const position = request.i64();
    const directory = reopen(entry.fd, hostConstants.O_RDONLY | hostConstants.O_DIRECTORY);
    try {
      if (position !== 0n) {
        checkResult(seekDirectory(directory, position), "lseek");
      }
      const chunk = withStat ? this.direntBuffer.subarray(0, READDIR_STAT_CHUNK) : this.direntBuffer;
      const length = checkResult(getdents64(directory, chunk), "getdents64");

      const countAt = reply.reserve(4);
      reply.u32(length === 0 ? 1 : 0);
      const nextAt = reply.reserve(8);
      let count = 0;
      let next = position;
      forEachDirent(chunk, length, (dirent) => {
        next = dirent.next;
        if (isDotOrDotDot(dirent.name)) {
          return;
        }
        reply.u64(this.inodes.inoOf(entry.dev, dirent.ino)).u8(dirent.type).u8(dirent.name.length).raw(dirent.name);
        if (withStat) this.writeEntryStat(reply, directory, dirent.name);
        count++;
      });
      reply.dataView.setUint32(countAt, count, true);
      reply.dataView.setBigInt64(nextAt, next, true);
    } finally {
      closeSync(directory);
    }
    return -1;
  }

  /**
   * Writes the attributes of `name` in `directory` as fstatat reports them
   * without following a link, or all zeros (mode 0) when it fails (the
   * entry went away meanwhile).
   */
  private writeEntryStat(reply: MessageWriter, directory: number, name: Uint8Array): void {
    const path = this.nameBuffer;
    path.set(name);
    path[name.length] = 0;
    if (fstatatNoFollow(directory, path, this.statBuffer) < 0) {
      reply.raw(ZERO_WIRE_STAT);
      return;
    }
    writeHostStat(reply, this.statView, this.inodes);
  }

  private readlink(request: MessageReader, reply: MessageWriter): number {
    const entry = this.handles.get(request.u32());
    const length = readlinkFd(entry.fd, this.linkBuffer);
    if (length === -Errno.ENOENT) {
      // readlinkat with an empty path on a file that is not a link.
      throw new GoferError(Errno.EINVAL);
    }
    checkResult(length, "readlinkat");
    reply.raw(this.linkBuffer.subarray(0, length));
    return -1;
  }

  private create(request: MessageReader, reply: MessageWriter): number {
    const directory = this.handles.get(request.u32());
    const mode = request.u32() & S_IALLUGO;
    const uid = request.u32();
    const gid = request.u32();
    const name = readName(request, request.remaining);
    const fd = checkResult(openat2(directory.fd, name, CREATE_FLAGS, mode, RESOLVE_NAME), "openat2");
    this.setOwner(fd, uid, gid, mode);
    this.replyNewHandle(reply, fd);
    return -1;
  }

  private mkdir(request: MessageReader, reply: MessageWriter): number {
    const directory = this.handles.get(request.u32());
    const mode = request.u32() & S_IALLUGO;
    const uid = request.u32();
    const gid = request.u32();
    const name = readName(request, request.remaining);
    checkResult(mkdirat(directory.fd, name, mode), "mkdirat");
    const fd = checkResult(openat2(directory.fd, name, WALK_FLAGS | hostConstants.O_DIRECTORY, 0, RESOLVE_NAME), "openat2");
    this.setOwner(fd, uid, gid, mode);
    this.replyNewHandle(reply, fd);
    return -1;
  }

  private symlink(request: MessageReader, reply: MessageWriter): number {
    const directory = this.handles.get(request.u32());
    const uid = request.u32();
    const gid = request.u32();
    const nameLength = request.u16();
    request.skip(2);
    const name = readName(request, nameLength);
    const target = readTarget(request);
    checkResult(symlinkat(target, directory.fd, name), "symlinkat");
    const fd = checkResult(openat2(directory.fd, name, WALK_FLAGS, 0, RESOLVE_NAME), "openat2");
    this.setOwner(fd, uid, gid, 0);
    this.replyNewHandle(reply, fd);
    return -1;
  }

  private link(request: MessageReader): number {
    const directory = this.handles.get(request.u32());
    const target = this.handles.get(request.u32());
    const name = readName(request, request.remaining);
    const attributes = fstatSync(target.fd, { bigint: true });
    if (attributes.isDirectory()) {
      throw new GoferError(Errno.EPERM, "hard link to a directory");
    }
    checkResult(linkat(`/proc/self/fd/${target.fd}`, directory.fd, name, AT_SYMLINK_FOLLOW), "linkat");
    return -1;
  }

  private unlink(request: MessageReader): number {
    const directory = this.handles.get(request.u32());
    const flags = request.u32();
    if ((flags & ~AT_REMOVEDIR) !== 0) {
      throw new GoferError(Errno.EINVAL, `invalid unlink flags 0x${flags.toString(16)}`);
    }
    const name = readName(request, request.remaining);
    checkResult(unlinkat(directory.fd, name, flags), "unlinkat");
    return -1;
  }

  private rename(request: MessageReader): number {
    const oldDirectory = this.handles.get(request.u32());
    const newDirectory = this.handles.get(request.u32());
    const flags = request.u32();
    if ((flags & ~RENAME_ALL) !== 0) {
      throw new GoferError(Errno.EINVAL, `invalid rename flags 0x${flags.toString(16)}`);
    }
    const oldNameLength = request.u16();
    request.skip(2);
    const oldName = readName(request, oldNameLength);
    const newName = readName(request, request.remaining);
    checkResult(renameat2(oldDirectory.fd, oldName, newDirectory.fd, newName, flags), "renameat2");
    return -1;
  }

  private setattr(request: MessageReader, reply: MessageWriter): number {
    const entry = this.handles.get(request.u32());
    const mask = request.u32();
    const mode = request.u32();
    const uid = request.u32();
    const gid = request.u32();
    request.skip(4);
    const size = request.u64();
    const atimeSec = request.i64();
    const mtimeSec = request.i64();
    const atimeNsec = request.u32();
    const mtimeNsec = request.u32();
    const attributes = fstatSync(entry.fd, { bigint: true });
    const path = `/proc/self/fd/${entry.fd}`;

    if ((mask & SetattrMask.SIZE) !== 0) {
      if (attributes.isDirectory()) {
        throw new GoferError(Errno.EISDIR);
      }
      if (!attributes.isFile()) {
        throw new GoferError(Errno.EINVAL, "truncate of a file that is not a regular file");
      }
      truncateSync(path, Number(size));
    }
    if ((mask & (SetattrMask.UID | SetattrMask.GID)) !== 0) {
      const newUid = (mask & SetattrMask.UID) !== 0 ? uid : -1;
      const newGid = (mask & SetattrMask.GID) !== 0 ? gid : -1;
      checkResult(fchownFd(entry.fd, newUid, newGid), "fchownat");
    }
    if ((mask & SetattrMask.MODE) !== 0) {
      if (attributes.isSymbolicLink()) {
        throw new GoferError(Errno.EOPNOTSUPP, "chmod of a symbolic link");
      }
      chmodSync(path, mode & S_IALLUGO);
    }
    if ((mask & (SetattrMask.ATIME | SetattrMask.MTIME)) !== 0) {
      const times = new BigInt64Array([
        atimeSec,
        BigInt((mask & SetattrMask.ATIME) !== 0 ? atimeNsec : UTIME_OMIT),
        mtimeSec,
        BigInt((mask & SetattrMask.MTIME) !== 0 ? mtimeNsec : UTIME_OMIT),
      ]);
      checkResult(utimensFd(entry.fd, times), "utimensat");
    }

    this.writeStatOf(reply, entry.fd);
    return -1;
  }

  private release(request: MessageReader): number {
    const count = request.u32();
    if (count > RELEASE_MAX) {
      throw new GoferError(Errno.EINVAL, `RELEASE of ${count} handles: at most ${RELEASE_MAX}`);
    }
    let unknown = false;
    for (let i = 0; i < count; i++) {
      try {
        this.handles.release(request.u32());
      } catch (error) {
        if (!(error instanceof GoferError)) {
          throw error;
        }
        unknown = true;
      }
    }
    if (unknown) {
      throw new GoferError(Errno.EBADF, "RELEASE of an unknown handle");
    }
    return -1;
  }

  /** Gives a new file the owner the client asked for, and then its set-user-ID and set-group-ID bits back, which chown clears. */
  private setOwner(fd: number, uid: number, gid: number, mode: number): void {
    const result = fchownFd(fd, uid, gid);
    if (result === -Errno.EPERM) {
      // NOTE: a gofer that is not root keeps its own ids on the files it creates.
      return;
    }
    checkResult(result, "fchownat");
    if ((mode & S_ISUGID) !== 0) {
      chmodSync(`/proc/self/fd/${fd}`, mode);
    }
  }

  /** Adds the file that `fd` refers to as a handle (taking `fd`) and replies with the handle and its attributes. */
  private replyNewHandle(reply: MessageWriter, fd: number): void {
    const result = fstatFd(fd, this.statBuffer);
    if (result < 0) {
      closeSync(fd);
      checkResult(result, "fstat");
    }
    const view = this.statView;
    const entry = this.handles.insert(fd, {
      dev: view.getBigUint64(HostStat.DEV, true),
      ino: view.getBigUint64(HostStat.INO, true),
    });
    reply.u32(entry.handle).u32(0);
    writeHostStat(reply, view, this.inodes);
  }

  private writeStatOf(reply: MessageWriter, fd: number): void {
    checkResult(fstatFd(fd, this.statBuffer), "fstat");
    writeHostStat(reply, this.statView, this.inodes);
  }
}

/** Reports whether a message type changes the mount. */
function isChange(type: number): boolean {
  return type >= MessageType.CREATE && type <= MessageType.SETATTR;
}

/**
 * Opens the file of an O_PATH descriptor anew through the gofer's own
 * /proc/self/fd magic link, with `flags`. Only the gofer's own descriptor
 * is resolved there, never a client path.
 */
function reopen(pathFd: number, flags: number): number {
  return openSync(`/proc/self/fd/${pathFd}`, flags);
}

/**
 * Reads a file name of `length` bytes and returns it NUL-terminated. Throws
 * EINVAL for an empty name, ".", "..", or a name with "/" or NUL, and
 * ENAMETOOLONG for one longer than NAME_MAX.
 */
function readName(request: MessageReader, length: number): Uint8Array {
  if (length > NAME_MAX) {
    throw new GoferError(Errno.ENAMETOOLONG);
  }
  const bytes = request.raw(length);
  if (length === 0 || isDotOrDotDot(bytes) || bytes.includes(0x2f) || bytes.includes(0)) {
    throw new GoferError(Errno.EINVAL, "invalid file name");
  }
  return withNul(bytes);
}

/**
 * Reads the rest of the message as a relative path of names separated by
 * "/" and returns it NUL-terminated. Each name is checked as readName
 * checks one; the whole path is at most TARGET_MAX bytes.
 */
function readRelativePath(request: MessageReader): Uint8Array {
  const length = request.remaining;
  if (length > TARGET_MAX) {
    throw new GoferError(Errno.ENAMETOOLONG);
  }
  const bytes = request.raw(length);
  let start = 0;
  for (let end = 0; end <= length; end++) {
    if (end < length && bytes[end] !== 0x2f) continue;
    const name = bytes.subarray(start, end);
    if (name.length === 0 || isDotOrDotDot(name) || name.includes(0)) {
      throw new GoferError(Errno.EINVAL, "invalid path");
    }
    if (name.length > NAME_MAX) {
      throw new GoferError(Errno.ENAMETOOLONG);
    }
    start = end + 1;
  }
  return withNul(bytes);
}

/** Reads the rest of the message as a symbolic link target and returns it NUL-terminated. */
function readTarget(request: MessageReader): Uint8Array {
  const length = request.remaining;
  if (length === 0 || length > TARGET_MAX) {
    throw new GoferError(length === 0 ? Errno.ENOENT : Errno.ENAMETOOLONG);
  }
  const bytes = request.raw(length);
  if (bytes.includes(0)) {
    throw new GoferError(Errno.EINVAL, "NUL in a symbolic link target");
  }
  return withNul(bytes);
}

function withNul(bytes: Uint8Array): Uint8Array {
  const terminated = new Uint8Array(bytes.length + 1);
  terminated.set(bytes);
  return terminated;
}

