// AF_UNIX SOCK_SEQPACKET sockets on abstract addresses, for the gofer
// handoff (../protocol/handoff.ts), bound through koffi: listen, accept with
// a timeout, connect, and the pid of the peer. Node's net module supports
// only stream sockets. Callers pass the address as a string and get
// descriptor numbers, pids or negative errno values.
import koffi from "koffi";

const libc = koffi.load("libc.so.6");

const socketNative = libc.func("int socket(int domain, int type, int protocol)");
const bindNative = libc.func("int bind(int fd, const uint8_t *address, uint32_t length)");
const listenNative = libc.func("int listen(int fd, int backlog)");
const connectNative = libc.func("int connect(int fd, const uint8_t *address, uint32_t length)");
const accept4Native = libc.func("int accept4(int fd, void *address, void *length, int flags)");
const pollNative = libc.func("int poll(_Inout_ uint8_t *fds, unsigned long count, int timeout)");
// fcntl(2) is variadic, but a fixed prototype is fine on x86-64 for an int argument.
const fcntlNative = libc.func("int fcntl(int fd, int command, int argument)");
const closeNative = libc.func("int close(int fd)");
const getsockoptNative = libc.func("int getsockopt(int fd, int level, int name, _Out_ uint8_t *value, _Inout_ uint32_t *length)");

const AF_UNIX = 1;
const SOCK_SEQPACKET = 5;
const SOCK_NONBLOCK = 0x800;
const SOCK_CLOEXEC = 0x80000;
const SOL_SOCKET = 1;
const SO_PEERCRED = 17;
const F_GETFL = 3;
const F_SETFL = 4;
const O_NONBLOCK = 0x800;
const POLLIN = 0x1;
const EINTR = 4;
const ETIMEDOUT = 110;
const ENAMETOOLONG = 36;

/** Offsets in struct sockaddr_un: the family, then sun_path (108 bytes). */
const enum SockaddrUn {
  FAMILY = 0,
  PATH = 2,
  PATH_SIZE = 108,
}

/** Offsets in struct pollfd (8 bytes). */
const enum Pollfd {
  FD = 0,
  EVENTS = 4,
  SIZE = 8,
}

/** Size of struct ucred (pid, uid, gid); the pid comes first. */
const UCRED_SIZE = 12;

/** Returns the result, or the negated errno when it is -1. */
function check(result: number): number {
  return result === -1 ? -koffi.errno() : result;
}

/**
 * Encodes the abstract address `name` as a sockaddr_un: sun_path starts
 * with a NUL, and the length ends the name (no NUL after it). Returns the
 * bytes, or undefined when the name does not fit.
 */
function abstractAddress(name: string): Uint8Array | undefined {
  const bytes = Buffer.from(name, "utf8");
  if (1 + bytes.length > SockaddrUn.PATH_SIZE) return undefined;
  const address = new Uint8Array(SockaddrUn.PATH + 1 + bytes.length);
  new DataView(address.buffer).setUint16(SockaddrUn.FAMILY, AF_UNIX, true);
  address.set(bytes, SockaddrUn.PATH + 1);
  return address;
}

/**
 * Creates a SOCK_SEQPACKET socket (close-on-exec) listening on the abstract
 * address `name`, with room for `backlog` pending connections. Returns the
 * descriptor, or a negative errno (-EADDRINUSE when the name is taken).
 */
export function listenAbstract(name: string, backlog: number): number {
  const address = abstractAddress(name);
  if (address === undefined) return -ENAMETOOLONG;
  const fd = check(socketNative(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (fd < 0) return fd;
  let result = check(bindNative(fd, address, address.length));
  if (result >= 0) result = check(listenNative(fd, backlog));
  if (result < 0) {
    closeNative(fd);
    return result;
  }
  return fd;
}

/**
 * Accepts the next connection on `listener`, waiting at most `timeoutMs`.
 * Returns the connected descriptor (close-on-exec), -ETIMEDOUT when none
 * came in time, or another negative errno.
 */
export function acceptWithTimeout(listener: number, timeoutMs: number): number {
  const deadline = performance.now() + timeoutMs;
  const pollfd = new Uint8Array(Pollfd.SIZE);
  const view = new DataView(pollfd.buffer);
  view.setInt32(Pollfd.FD, listener, true);
  view.setInt16(Pollfd.EVENTS, POLLIN, true);
  for (;;) {
    const remaining = Math.ceil(deadline - performance.now());
    if (remaining <= 0) return -ETIMEDOUT;
    const ready = check(pollNative(pollfd, 1, remaining));
    if (ready === -EINTR || ready === 0) continue;
    if (ready < 0) return ready;
    const fd = check(accept4Native(listener, null, null, SOCK_CLOEXEC));
    if (fd === -EINTR) continue;
    return fd;
  }
}

/**
 * Connects a new SOCK_SEQPACKET socket (close-on-exec, blocking) to the
 * abstract address `name` without waiting: returns the descriptor,
 * -ECONNREFUSED when nothing listens there, -EAGAIN when the listener's
 * backlog is full, or another negative errno.
 */
export function connectAbstract(name: string): number {
  const address = abstractAddress(name);
  if (address === undefined) return -ENAMETOOLONG;
  // Non-blocking, so that a full backlog fails at once instead of waiting.
  const fd = check(socketNative(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd < 0) return fd;
  let result = check(connectNative(fd, address, address.length));
  if (result >= 0) {
    const flags = check(fcntlNative(fd, F_GETFL, 0));
    result = flags < 0 ? flags : check(fcntlNative(fd, F_SETFL, flags & ~O_NONBLOCK));
  }
  if (result < 0) {
    closeNative(fd);
    return result;
  }
  return fd;
}

/**
 * Returns the pid of the process at the other end of the connected socket
 * `fd` (SO_PEERCRED): the one that connected, or for a client, the one that
 * listened. Returns a negative errno on failure.
 */
export function peerPid(fd: number): number {
  const credentials = new Uint8Array(UCRED_SIZE);
  const length = new Uint32Array([UCRED_SIZE]);
  const result = check(getsockoptNative(fd, SOL_SOCKET, SO_PEERCRED, credentials, length));
  if (result < 0) return result;
  return new DataView(credentials.buffer).getInt32(0, true);
}
