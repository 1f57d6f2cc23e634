import { isatty } from "node:tty";
import { decodeIovecs, Errno, IOVEC_SIZE, SyscallError, UIO_MAXIOV } from "@sandbox/abi";
import { type FileDescription, pipeOf } from "@sandbox/vfs";
import type { Task } from "../kernel/task";
import { readBlocking, writeBlocking } from "../kernel/file-wait";
import { isOrphanedProcessGroup } from "../kernel/job-control";
import { ERESTARTSYS, queueSignal } from "../kernel/signals";
import { writeInt32 } from "../kernel/user-memory";
import type { SyscallGroup } from "./registry";
import { statBytes } from "./stat-encoding";

/** Largest count one read or write transfers, as Linux's MAX_RW_COUNT. */
const MAX_RW_COUNT = 0x7fff_f000;
/** Largest buffer the Sentry allocates for one transfer; longer requests are served in part, as short reads and writes. */
const MAX_TRANSFER = 16 * 1024 * 1024;
const F_DUPFD = 0;
const F_GETFD = 1;
const F_SETFD = 2;
const F_GETFL = 3;
const F_SETFL = 4;
const F_GETLK = 5;
const F_SETLK = 6;
const F_SETLKW = 7;
const F_SETOWN = 8;
const F_GETOWN = 9;
const F_OFD_GETLK = 36;
const F_OFD_SETLK = 37;
const F_OFD_SETLKW = 38;
const F_DUPFD_CLOEXEC = 1030;
const F_SETPIPE_SZ = 1031;
const F_ADD_SEALS = 1033;
const F_GET_SEALS = 1034;
const F_GETPIPE_SZ = 1032;
const FD_CLOEXEC = 1;
const F_UNLCK = 2;
const TCGETS = 0x5401;
const TCSETS = 0x5402;
const TCSETSW = 0x5403;
const TCSETSF = 0x5404;
const TIOCGWINSZ = 0x5413;
const TIOCSWINSZ = 0x5414;
const TIOCGPGRP = 0x540f;
const TIOCSPGRP = 0x5410;
const TIOCGSID = 0x5429;
const TIOCSCTTY = 0x540e;
const TIOCNOTTY = 0x5422;
const SIGTTIN = 21;
const SIGTTOU = 22;
const FIONREAD = 0x541b;
const FIONBIO = 0x5421;
const FIOCLEX = 0x5451;
const FIONCLEX = 0x5450;
const O_NONBLOCK = 0o4000;
const SEEK_MAX = 4;

/** Returns the description of `fd` or throws EBADF. */
export function fileOf(task: Task, fd: number): FileDescription {
  return task.fdTable.get(fd);
}

function transferLength(count: number): number {
  if (count > Number.MAX_SAFE_INTEGER || count < 0) throw new SyscallError(Errno.EINVAL);
  return Math.min(count, MAX_RW_COUNT, MAX_TRANSFER);
}

/** read(2); waits for data on a blocking pipe or terminal. */
async function read(task: Task): Promise<number> {
  const file = fileOf(task, task.intArg(0));
  const stopped = backgroundRead(task, file);
  if (stopped !== undefined) return stopped;
  const length = transferLength(task.numberArg(2));
  const addr = task.numberArg(1);
  // The bytes go out in the same synchronous step as they are read, so the
  // kernel's scratch buffer serves every task.
  return readBlocking(task, file, () => {
    const buffer = task.kernel.scratch(length);
    const count = file.read(buffer);
    if (count > 0) task.mm.copyOut(addr, buffer.subarray(0, count));
    return count;
  });
}

/** write(2); writes everything to a blocking pipe, raising SIGPIPE when it is broken. */
function write(task: Task): Promise<number> {
  const file = fileOf(task, task.intArg(0));
  const length = transferLength(task.numberArg(2));
  if (file.impl.discardsWrites === true && file.writable) return Promise.resolve(length);
  const data = length === 0 ? new Uint8Array(0) : task.mm.copyIn(task.numberArg(1), length);
  return writeBlocking(task, file, data, (chunk) => file.write(chunk));
}

/** pread64(2). */
function pread64(task: Task): number {
  const file = fileOf(task, task.intArg(0));
  const offset = Number(BigInt.asIntN(64, task.arg(3)));
  if (offset < 0) throw new SyscallError(Errno.EINVAL);
  const buffer = task.kernel.scratch(transferLength(task.numberArg(2)));
  const count = file.pread(buffer, offset);
  if (count > 0) task.mm.copyOut(task.numberArg(1), buffer.subarray(0, count));
  return count;
}

/** pwrite64(2). */
function pwrite64(task: Task): number {
  const file = fileOf(task, task.intArg(0));
  const offset = Number(BigInt.asIntN(64, task.arg(3)));
  if (offset < 0) throw new SyscallError(Errno.EINVAL);
  const length = transferLength(task.numberArg(2));
  return file.pwrite(length === 0 ? new Uint8Array(0) : task.mm.copyIn(task.numberArg(1), length), offset);
}

function readIovecs(task: Task, addr: number, count: number) {
  if (count < 0 || count > UIO_MAXIOV) throw new SyscallError(Errno.EINVAL);
  if (count === 0) return [];
  const iovecs = decodeIovecs(task.mm.copyIn(addr, count * IOVEC_SIZE), count);
  let total = 0;
  for (const iovec of iovecs) {
    total += iovec.length;
    if (iovec.length > MAX_RW_COUNT || total > MAX_RW_COUNT * 2) throw new SyscallError(Errno.EINVAL);
  }
  return iovecs;
}

/** Reads into the buffers of an iovec array as one transfer, then scatters the bytes. */
async function readVector(task: Task, file: FileDescription, offset: number | undefined): Promise<number> {
  const iovecs = readIovecs(task, task.numberArg(1), task.intArg(2));
  const total = Math.min(iovecs.reduce((sum, iovec) => sum + iovec.length, 0), MAX_TRANSFER);
  const buffer = new Uint8Array(total);
  const count = await readBlocking(task, file, () => (offset === undefined ? file.read(buffer) : file.pread(buffer, offset)));
  let copied = 0;
  for (const { base, length } of iovecs) {
    if (copied >= count) break;
    const part = Math.min(length, count - copied);
    if (part > 0) task.mm.copyOut(base, buffer.subarray(copied, copied + part));
    copied += part;
  }
  return count;
}

/** Writes the buffers of an iovec array as one transfer. */
function writeVector(task: Task, file: FileDescription, offset: number | undefined): Promise<number> | number {
  const iovecs = readIovecs(task, task.numberArg(1), task.intArg(2));
  const parts = iovecs.filter((iovec) => iovec.length > 0).map(({ base, length }) => task.mm.copyIn(base, Math.min(length, MAX_TRANSFER)));
  const data = parts.length === 1 ? parts[0] : Buffer.concat(parts);
  if (data.length === 0) return 0;
  if (offset !== undefined) return file.pwrite(data, offset);
  return writeBlocking(task, file, data, (chunk) => file.write(chunk));
}

function vectorOffset(task: Task): number {
  const offset = Number(BigInt.asIntN(64, task.arg(3)));
  if (offset < 0) throw new SyscallError(Errno.EINVAL);
  return offset;
}

/** readv(2). */
const readv = (task: Task) => readVector(task, fileOf(task, task.intArg(0)), undefined);
/** writev(2). */
const writev = (task: Task) => writeVector(task, fileOf(task, task.intArg(0)), undefined);
/** preadv(2). */
const preadv = (task: Task) => readVector(task, fileOf(task, task.intArg(0)), vectorOffset(task));
/** pwritev(2). */
const pwritev = (task: Task) => writeVector(task, fileOf(task, task.intArg(0)), vectorOffset(task));

/** lseek(2). */
function lseek(task: Task): number {
  const whence = task.intArg(2);
  if (whence < 0 || whence > SEEK_MAX) throw new SyscallError(Errno.EINVAL);
  return fileOf(task, task.intArg(0)).seek(Number(BigInt.asIntN(64, task.arg(1))), whence);
}

/** close(2). */
function close(task: Task): number {
  task.fdTable.close(task.intArg(0));
  return 0;
}

/** close_range(2). */
function closeRange(task: Task): number {
  const first = Number(task.arg(0) & 0xffff_ffffn);
  const last = Number(task.arg(1) & 0xffff_ffffn);
  task.fdTable.closeRange(first, last, task.intArg(2));
  return 0;
}

/** dup(2). */
const dup = (task: Task) => task.fdTable.dup(task.intArg(0));

/** dup2(2): returns newfd unchanged when it equals a valid oldfd. */
function dup2(task: Task): number {
  const oldFd = task.intArg(0);
  const newFd = task.intArg(1);
  if (oldFd === newFd) {
    fileOf(task, oldFd);
    return newFd;
  }
  return task.fdTable.dup3(oldFd, newFd, 0);
}

/** dup3(2). */
function dup3(task: Task): number {
  const oldFd = task.intArg(0);
  const newFd = task.intArg(1);
  const flags = task.intArg(2);
  if (oldFd === newFd || (flags & ~0o2000000) !== 0) throw new SyscallError(Errno.EINVAL);
  return task.fdTable.dup3(oldFd, newFd, flags);
}

/** fcntl(2): descriptor flags, status flags, duplication and advisory locks. */
function fcntl(task: Task): number {
  const fd = task.intArg(0);
  const command = task.intArg(1);
  const file = fileOf(task, fd);
  switch (command) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
      return task.fdTable.dupMin(fd, task.intArg(2), command === F_DUPFD_CLOEXEC);
    case F_GETFD:
      return task.fdTable.getFlags(fd);
    case F_SETFD:
      task.fdTable.setFlags(fd, task.intArg(2) & FD_CLOEXEC);
      return 0;
    case F_GETFL:
      return file.statusFlags;
    case F_SETFL:
      file.setStatusFlags(task.intArg(2));
      return 0;
    case F_GETLK:
    case F_OFD_GETLK: {
      // NOTE: advisory locks are not tracked; every lock request succeeds and F_GETLK reports no conflict.
      const addr = task.numberArg(2);
      const flock = task.mm.copyIn(addr, 32);
      new DataView(flock.buffer).setInt16(0, F_UNLCK, true);
      task.mm.copyOut(addr, flock);
      return 0;
    }
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
      return 0;
    case F_GETOWN:
      return 0;
    case F_SETOWN:
      return 0;
    case F_GETPIPE_SZ:
    case F_SETPIPE_SZ: {
      const pipe = pipeOf(file);
      if (pipe === undefined) throw new SyscallError(Errno.EBADF);
      if (command === F_SETPIPE_SZ) return pipe.setCapacity(task.intArg(2), task.credentials.euid === 0);
      return pipe.capacity;
    }
    case F_GET_SEALS:
      if (file.impl.getSeals === undefined) throw new SyscallError(Errno.EINVAL, "the file has no seals");
      return file.impl.getSeals();
    case F_ADD_SEALS:
      if (file.impl.addSeals === undefined) throw new SyscallError(Errno.EINVAL, "the file has no seals");
      if (!file.writable) throw new SyscallError(Errno.EPERM, "F_ADD_SEALS on a file not open for writing");
      file.impl.addSeals(task.intArg(2) >>> 0);
      return 0;
    default:
      throw new SyscallError(Errno.EINVAL, `unsupported fcntl command ${command}`);
  }
}

/** Returns the sandbox's controlling terminal when the caller's session has it, or throws ENOTTY. */
function controllingTerminal(task: Task) {
  const terminal = task.kernel.terminal;
  if (terminal === undefined || terminal.sid !== task.threadGroup.sid) throw new SyscallError(Errno.ENOTTY);
  return terminal;
}

/** Reports whether a background process touching the terminal gets `signo` (it neither blocks nor ignores it, and its group is not orphaned). */
function stopsBackgroundAccess(task: Task, signo: number): boolean {
  const action = task.threadGroup.signalActions[signo];
  const blocked = (task.signalMask & (1n << BigInt(signo - 1))) !== 0n;
  return !blocked && action.handler !== 1n && !isOrphanedProcessGroup(task.kernel, task.threadGroup.pgid);
}

/** Sends `signo` to the caller's process group and makes the call restart after it, as the tty layer does. */
function sendToProcessGroup(task: Task, signo: number): number {
  for (const group of [...task.kernel.threadGroups.values()]) {
    if (group.pgid === task.threadGroup.pgid && !group.zombie) {
      queueSignal(group, undefined, { signo, code: 0x80, pid: 0, uid: 0, status: 0, addr: 0, value: 0n });
    }
  }
  return -ERESTARTSYS;
}

/**
 * Applies job control to a read of the controlling terminal: a background
 * process gets SIGTTIN (the read restarts once it continues), or EIO when it
 * ignores or blocks SIGTTIN. Returns undefined when the read may go on.
 */
function backgroundRead(task: Task, file: FileDescription): number | undefined {
  const terminal = task.kernel.terminal;
  const hostFd = file.impl.hostFd;
  if (terminal === undefined || hostFd === undefined || terminal.sid !== task.threadGroup.sid) return undefined;
  if (task.threadGroup.pgid === terminal.foregroundPgrp || !isatty(hostFd)) return undefined;
  if (!stopsBackgroundAccess(task, SIGTTIN)) throw new SyscallError(Errno.EIO);
  return sendToProcessGroup(task, SIGTTIN);
}

/** Returns the window size of a host terminal, from Node's view of stdout, or 80x24. */
function hostWindowSize(): { rows: number; columns: number } {
  const stream = process.stdout as { rows?: number; columns?: number };
  return { rows: stream.rows ?? 24, columns: stream.columns ?? 80 };
}

/** Returns a struct termios of a terminal in cooked mode (ICANON, ECHO, ISIG, OPOST|ONLCR, ICRNL, 38400 baud, CS8). */
function defaultTermios(): Uint8Array {
  const bytes = new Uint8Array(36);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0o2400 | 0o400, true); // c_iflag: IXON | ICRNL
  view.setUint32(4, 0o5, true); // c_oflag: OPOST | ONLCR
  view.setUint32(8, 0o277, true); // c_cflag: B38400 | CS8 | CREAD
  view.setUint32(12, 0o105073, true); // c_lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN
  const cc = [3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0];
  bytes.set(cc, 17);
  return bytes;
}

/**
 * ioctl(2): terminal requests on descriptors that are host terminals and
 * the generic FIO* requests.
 * NOTE: terminal settings are reported, not applied; TCSETS* is accepted without changing the host terminal.
 */
function ioctl(task: Task): number {
  const fd = task.intArg(0);
  const request = Number(task.arg(1) & 0xffff_ffffn);
  const file = fileOf(task, fd);
  const arg = task.numberArg(2);
  switch (request) {
    case FIOCLEX:
      task.fdTable.setFlags(fd, FD_CLOEXEC);
      return 0;
    case FIONCLEX:
      task.fdTable.setFlags(fd, 0);
      return 0;
    case FIONBIO: {
      const value = new DataView(task.mm.copyIn(arg, 4).buffer).getInt32(0, true);
      file.setStatusFlags(value !== 0 ? file.statusFlags | O_NONBLOCK : file.statusFlags & ~O_NONBLOCK);
      return 0;
    }
  }

  const hostFd = file.impl.hostFd;
  if (hostFd === undefined || !isatty(hostFd)) throw new SyscallError(Errno.ENOTTY);
  switch (request) {
    case TCGETS:
      task.mm.copyOut(arg, defaultTermios());
      return 0;
    case TCSETS:
    case TCSETSW:
    case TCSETSF:
      task.mm.copyIn(arg, 36);
      return 0;
    case TIOCGWINSZ: {
      const { rows, columns } = hostWindowSize();
      const bytes = new Uint8Array(8);
      const view = new DataView(bytes.buffer);
      view.setUint16(0, rows, true);
      view.setUint16(2, columns, true);
      task.mm.copyOut(arg, bytes);
      return 0;
    }
    case TIOCSWINSZ:
      return 0;
    case TIOCGPGRP: {
      const terminal = controllingTerminal(task);
      writeInt32(task.mm, arg, terminal.foregroundPgrp);
      return 0;
    }
    case TIOCSPGRP: {
      const terminal = controllingTerminal(task);
      const pgrp = new DataView(task.mm.copyIn(arg, 4).buffer).getInt32(0, true);
      if (pgrp < 0) throw new SyscallError(Errno.EINVAL);
      const group = task.threadGroup;
      if (group.pgid !== terminal.foregroundPgrp && stopsBackgroundAccess(task, SIGTTOU)) return sendToProcessGroup(task, SIGTTOU);
      const exists = [...task.kernel.threadGroups.values()].some((other) => other.pgid === pgrp && other.sid === group.sid && !other.zombie);
      if (!exists) throw new SyscallError(Errno.EPERM);
      terminal.foregroundPgrp = pgrp;
      return 0;
    }
    case TIOCGSID:
      writeInt32(task.mm, arg, controllingTerminal(task).sid);
      return 0;
    case TIOCSCTTY:
    case TIOCNOTTY:
      // NOTE: the controlling terminal is fixed at start-up; acquiring or dropping it is accepted without effect.
      return 0;
    case FIONREAD:
      writeInt32(task.mm, arg, 0);
      return 0;
    default:
      throw new SyscallError(Errno.ENOTTY, `unsupported terminal ioctl 0x${request.toString(16)}`);
  }
}

/** getdents64(2). */
function getdents64(task: Task): number {
  const file = fileOf(task, task.intArg(0));
  const size = Math.min(task.numberArg(2), 1 << 20);
  const buffer = new Uint8Array(size);
  const used = file.getdents64(buffer);
  if (used > 0) task.mm.copyOut(task.numberArg(1), buffer.subarray(0, used));
  return used;
}

/** fstat(2). */
function fstat(task: Task): number {
  task.mm.copyOut(task.numberArg(1), statBytes(fileOf(task, task.intArg(0)).stat()));
  return 0;
}

/** ftruncate(2). */
function ftruncate(task: Task): number {
  fileOf(task, task.intArg(0)).truncate(Number(BigInt.asIntN(64, task.arg(1))));
  return 0;
}

/** fsync(2), fdatasync(2), syncfs(2): sandbox files have no slower storage to flush to. */
function fsync(task: Task): number {
  fileOf(task, task.intArg(0));
  return 0;
}

/** fadvise64(2) and flock(2): advice and advisory locks are accepted without effect. */
function adviceAccepted(task: Task): number {
  fileOf(task, task.intArg(0));
  return 0;
}

/**
 * Fails a socket call that takes a descriptor (getpeername, getsockname,
 * getsockopt, shutdown, ...) with EBADF or ENOTSOCK, as Linux does for a
 * file that is not a socket. No descriptor of the sandbox is a socket yet.
 * NOTE: socket(2) itself is not served and returns ENOSYS.
 */
function notASocket(task: Task): number {
  fileOf(task, task.intArg(0));
  throw new SyscallError(Errno.ENOTSOCK);
}

/** The descriptor-based file system calls. */
export const fileSyscalls: SyscallGroup = {
  read,
  write,
  pread64,
  pwrite64,
  readv,
  writev,
  preadv,
  pwritev,
  lseek,
  close,
  close_range: closeRange,
  dup,
  dup2,
  dup3,
  fcntl,
  ioctl,
  getdents64,
  fstat,
  ftruncate,
  fsync,
  fdatasync: fsync,
  syncfs: fsync,
  fadvise64: adviceAccepted,
  flock: adviceAccepted,
  getpeername: notASocket,
  getsockname: notASocket,
  getsockopt: notASocket,
  setsockopt: notASocket,
  shutdown: notASocket,
  connect: notASocket,
  bind: notASocket,
  listen: notASocket,
  accept: notASocket,
  accept4: notASocket,
  sendto: notASocket,
  recvfrom: notASocket,
  sendmsg: notASocket,
  recvmsg: notASocket,
};
