// Unix socket calls of the gofer protocol, bound through koffi: a
// SOCK_SEQPACKET socket pair, and sendmsg/recvmsg with at most one file
// descriptor passed as SCM_RIGHTS. Node cannot pass descriptors over a Unix
// socket by itself. Every pointer stays in this file: callers see a
// Uint8Array of message bytes, descriptor numbers and negative errno values.
import koffi from "koffi";

const libc = koffi.load("libc.so.6");

const socketpairNative = libc.func("int socketpair(int domain, int type, int protocol, _Out_ int *sv)");
const sendmsgNative = libc.func("long sendmsg(int fd, void *msg, int flags)");
const recvmsgNative = libc.func("long recvmsg(int fd, void *msg, int flags)");
const closeNative = libc.func("int close(int fd)");
const getsockoptNative = libc.func(
  "int getsockopt(int fd, int level, int name, _Out_ int32_t *value, _Inout_ uint32_t *length)",
);

const AF_UNIX = 1;
const SOCK_SEQPACKET = 5;
const SOCK_CLOEXEC = 0x80000;
const SOL_SOCKET = 1;
const SO_TYPE = 3;
const SCM_RIGHTS = 1;
const MSG_CTRUNC = 0x8;
const MSG_TRUNC = 0x20;
const MSG_NOSIGNAL = 0x4000;
const MSG_CMSG_CLOEXEC = 0x40000000;
const EINTR = 4;
const EPROTO = 71;
const EMSGSIZE = 90;

/** Offsets in struct msghdr (x86-64, 56 bytes). */
const enum Msghdr {
  NAME = 0,
  NAMELEN = 8,
  IOV = 16,
  IOVLEN = 24,
  CONTROL = 32,
  CONTROLLEN = 40,
  FLAGS = 48,
  SIZE = 56,
}

/** Offsets in struct iovec (16 bytes). */
const enum Iovec {
  BASE = 0,
  LEN = 8,
  SIZE = 16,
}

/** Offsets in struct cmsghdr; the data starts at DATA (CMSG_DATA). */
const enum Cmsghdr {
  LEN = 0,
  LEVEL = 8,
  TYPE = 12,
  DATA = 16,
}

/** CMSG_LEN(4): a control message that carries one descriptor. */
const CMSG_LEN_ONE_FD = Cmsghdr.DATA + 4;

/**
 * Control buffer size: room for up to 8 descriptors, so that a peer sending
 * more than the protocol allows is detected (and its descriptors closed)
 * instead of truncated.
 */
const CONTROL_BYTES = Cmsghdr.DATA + 8 * 4;

/** The message bytes start here in the native block, after msghdr, iovec and the control buffer. */
const DATA_OFFSET = Msghdr.SIZE + Iovec.SIZE + CONTROL_BYTES;

/**
 * Creates a connected pair of AF_UNIX SOCK_SEQPACKET sockets, both
 * close-on-exec. Returns the two descriptors, or a negative errno.
 */
export function seqpacketPair(): [number, number] | number {
  const fds = new Int32Array(2);
  if (socketpairNative(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) !== 0) {
    return -koffi.errno();
  }
  return [fds[0], fds[1]];
}

/** Reports whether `fd` is a SOCK_SEQPACKET socket (getsockopt SO_TYPE). */
export function isSeqpacketSocket(fd: number): boolean {
  const type = new Int32Array(1);
  const length = new Uint32Array([4]);
  return getsockoptNative(fd, SOL_SOCKET, SO_TYPE, type, length) === 0 && type[0] === SOCK_SEQPACKET;
}

/**
 * One message buffer in native memory, with the msghdr, iovec and control
 * buffer that sendmsg and recvmsg need around it. `bytes` is a view of the
 * native memory itself, so a message is built and parsed in place.
 *
 * Not thread-safe and not reentrant: one message at a time. `free` must be
 * called once the buffer is no longer used, and `bytes` is invalid after it.
 */
export class MessageBuffer {
  /** The message bytes, `capacity` long, over native memory. */
  readonly bytes: Uint8Array;
  /** The descriptor received with the last message, or -1. The caller owns it. */
  receivedFd = -1;

  private pointer: unknown;
  private readonly header: DataView;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity <= 0) {
      throw new RangeError(`invalid message capacity ${capacity}: expected a positive integer`);
    }
    const total = DATA_OFFSET + capacity;
    this.pointer = koffi.alloc("uint8_t", total);
    const memory = koffi.view(this.pointer, total);
    const base = koffi.address(this.pointer);

    this.header = new DataView(memory, 0, DATA_OFFSET);
    this.bytes = new Uint8Array(memory, DATA_OFFSET, capacity);
    this.header.setBigUint64(Msghdr.IOV, base + BigInt(Msghdr.SIZE), true);
    this.header.setBigUint64(Msghdr.IOVLEN, 1n, true);
    this.header.setBigUint64(Msghdr.SIZE + Iovec.BASE, base + BigInt(DATA_OFFSET), true);
    this.header.setBigUint64(Msghdr.CONTROL, base + BigInt(Msghdr.SIZE + Iovec.SIZE), true);
  }

  /**
   * Sends the first `length` bytes of `bytes` as one message on `socket`,
   * with `fd` as SCM_RIGHTS unless it is -1. Never raises SIGPIPE. Returns
   * the byte count, or a negative errno (-EPIPE once the peer is gone).
   */
  send(socket: number, length: number, fd: number): number {
    this.checkLive();
    if (length > this.capacity) {
      return -EMSGSIZE;
    }
    this.prepare(length);
    if (fd >= 0) {
      const control = Msghdr.SIZE + Iovec.SIZE;
      this.header.setBigUint64(control + Cmsghdr.LEN, BigInt(CMSG_LEN_ONE_FD), true);
      this.header.setInt32(control + Cmsghdr.LEVEL, SOL_SOCKET, true);
      this.header.setInt32(control + Cmsghdr.TYPE, SCM_RIGHTS, true);
      this.header.setInt32(control + Cmsghdr.DATA, fd, true);
      // CMSG_SPACE(4) is CMSG_LEN(4) rounded up to 8 bytes.
      this.header.setBigUint64(Msghdr.CONTROLLEN, BigInt((CMSG_LEN_ONE_FD + 7) & ~7), true);
    } else {
      this.header.setBigUint64(Msghdr.CONTROLLEN, 0n, true);
    }

    for (;;) {
      const result = Number(sendmsgNative(socket, this.pointer, MSG_NOSIGNAL));
      if (result >= 0) {
        return result;
      }
      const errno = koffi.errno();
      if (errno !== EINTR) {
        return -errno;
      }
    }
  }

  /**
   * Waits for one message on `socket` and stores it at the start of
   * `bytes`. Returns its length (0 when the peer closed its end), or a
   * negative errno. A descriptor that came with it is in `receivedFd`,
   * close-on-exec. A message longer than `capacity` or with more than one
   * descriptor fails with -EPROTO, and any descriptors it carried are closed.
   */
  receive(socket: number): number {
    this.checkLive();
    this.receivedFd = -1;
    let result: number;
    for (;;) {
      this.prepare(this.capacity);
      this.header.setBigUint64(Msghdr.CONTROLLEN, BigInt(CONTROL_BYTES), true);
      result = Number(recvmsgNative(socket, this.pointer, MSG_CMSG_CLOEXEC));
      if (result >= 0) {
        break;
      }
      const errno = koffi.errno();
      if (errno !== EINTR) {
        return -errno;
      }
    }

    const fds = this.takeDescriptors();
    const flags = this.header.getInt32(Msghdr.FLAGS, true);
    if ((flags & (MSG_TRUNC | MSG_CTRUNC)) !== 0 || fds.length > 1) {
      for (const fd of fds) closeNative(fd);
      return -EPROTO;
    }
    this.receivedFd = fds.length === 1 ? fds[0] : -1;
    return result;
  }

  /** Frees the native memory. The buffer cannot be used afterwards. */
  free(): void {
    if (this.pointer !== undefined) {
      koffi.free(this.pointer);
      this.pointer = undefined;
    }
  }

  private checkLive(): void {
    if (this.pointer === undefined) {
      throw new Error("MessageBuffer used after free");
    }
  }

  /** Resets the msghdr fields that a call changes, with an iovec of `length` bytes. */
  private prepare(length: number): void {
    this.header.setBigUint64(Msghdr.NAME, 0n, true);
    this.header.setUint32(Msghdr.NAMELEN, 0, true);
    this.header.setBigUint64(Msghdr.SIZE + Iovec.LEN, BigInt(length), true);
    this.header.setInt32(Msghdr.FLAGS, 0, true);
  }

  /** Returns the descriptors of every SCM_RIGHTS control message that recvmsg stored. */
  private takeDescriptors(): number[] {
    const fds: number[] = [];
    const control = Msghdr.SIZE + Iovec.SIZE;
    const controlLength = Number(this.header.getBigUint64(Msghdr.CONTROLLEN, true));
    let offset = 0;
    while (offset + Cmsghdr.DATA <= controlLength) {
      const length = Number(this.header.getBigUint64(control + offset + Cmsghdr.LEN, true));
      if (length < Cmsghdr.DATA || offset + length > controlLength) {
        break;
      }
      const level = this.header.getInt32(control + offset + Cmsghdr.LEVEL, true);
      const type = this.header.getInt32(control + offset + Cmsghdr.TYPE, true);
      if (level === SOL_SOCKET && type === SCM_RIGHTS) {
        for (let at = Cmsghdr.DATA; at + 4 <= length; at += 4) {
          fds.push(this.header.getInt32(control + offset + at, true));
        }
      }
      offset += (length + 7) & ~7;
    }
    return fds;
  }
}
