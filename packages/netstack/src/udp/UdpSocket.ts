import { formatAddress, isUnspecified, parseAddress } from "../address";
import { bytesEqual } from "../bytes";
import { defaultPool } from "../BufferPool";
import { Errno } from "../errno";
import { IPPROTO_UDP } from "../header/ipv4";
import { UDP_HLEN } from "../header/udp";
import { HEADROOM } from "../stack/IPv4";
import type { Route } from "../stack/Route";
import type { RxPacket } from "../stack/RxPacket";
import {
  AF_INET,
  AF_INET6,
  EPOLLERR,
  EPOLLIN,
  EPOLLOUT,
  IP_TOS,
  IP_TTL,
  IPPROTO_IP,
  IPPROTO_IPV6,
  IPV6_UNICAST_HOPS,
  IPV6_V6ONLY,
  MSG_PEEK,
  SHUT_RD,
  SHUT_RDWR,
  SHUT_WR,
  SO_BROADCAST,
  SO_ERROR,
  SO_RCVBUF,
  SO_REUSEADDR,
  SO_SNDBUF,
  SO_TYPE,
  SOCK_DGRAM,
  SOL_SOCKET,
} from "../socket/constants";
import { type SockAddr, type Socket, SocketEmitter } from "../socket/Socket";
import type { UdpProtocol } from "./UdpProtocol";

interface Datagram {
  data: Uint8Array;
  address: string;
  port: number;
}

/** Largest UDP payload over IPv4 (65535 - 20 - 8). */
const MAX_PAYLOAD = 65507;

/**
 * A UDP socket. Received datagrams are copied into a queue bounded by
 * SO_RCVBUF (212992 bytes by default, Linux's rmem_default); datagrams
 * beyond it are dropped and counted as RcvbufErrors. An AF_INET6 socket
 * carries only IPv6 (IPV6_V6ONLY is always on).
 */
export class UdpSocket extends SocketEmitter implements Socket {
  readonly domain: number;
  readonly type = SOCK_DGRAM;
  readonly protocol = IPPROTO_UDP;
  private localAddr: Uint8Array | null = null;
  private localPort = 0;
  private remoteAddr: Uint8Array | null = null;
  private remotePort = 0;
  private reuseAddr = false;
  private broadcast = false;
  private rcvbuf = 212_992;
  private sndbuf = 212_992;
  private ttl = 64;
  private tos = 0;
  private readonly queue: Datagram[] = [];
  private queuedBytes = 0;
  private error = 0;
  private shutRead = false;
  private shutWrite = false;
  private closed = false;
  private route: Route | null = null;

  constructor(private readonly proto: UdpProtocol, private readonly v6: boolean) {
    super();
    this.domain = v6 ? AF_INET6 : AF_INET;
  }

  private parse(addr: SockAddr): Uint8Array | number {
    const bytes = parseAddress(addr.address);
    if (bytes === null || !Number.isInteger(addr.port) || addr.port < 0 || addr.port > 65535) return -Errno.EINVAL;
    if (bytes.length !== (this.v6 ? 16 : 4)) return -Errno.EAFNOSUPPORT;
    return bytes;
  }

  bind(addr: SockAddr): number {
    if (this.closed) return -Errno.EBADF;
    if (this.localPort !== 0) return -Errno.EINVAL;
    const bytes = this.parse(addr);
    if (typeof bytes === "number") return bytes;
    const any = isUnspecified(addr.address);
    if (!any && this.proto.stack.findLocalAddress(bytes, 0, bytes.length) === null && !(bytes.length === 4 && bytes[0] >= 224)) return -Errno.EADDRNOTAVAIL;
    let port = addr.port;
    if (port === 0) {
      port = this.proto.ports.allocate();
      if (port < 0) return port;
    } else {
      for (const s of this.proto.socketsOn(port)) {
        if (s.domain !== this.domain) continue;
        if (s.reuseAddr && this.reuseAddr) continue;
        if (s.localAddr === null || any || bytesEqual(s.localAddr, 0, bytes, 0, bytes.length)) return -Errno.EADDRINUSE;
      }
      this.proto.ports.take(port);
    }
    this.localAddr = any ? null : bytes;
    this.localPort = port;
    this.proto.register(this, port);
    return 0;
  }

  private autobind(): number {
    if (this.localPort !== 0) return 0;
    return this.bind({ address: this.v6 ? "::" : "0.0.0.0", port: 0 });
  }

  connect(addr: SockAddr | null): number {
    if (this.closed) return -Errno.EBADF;
    if (addr === null) {
      this.remoteAddr = null;
      this.remotePort = 0;
      this.route = null;
      return 0;
    }
    const bytes = this.parse(addr);
    if (typeof bytes === "number") return bytes;
    if (addr.port === 0) return -Errno.EINVAL;
    const route = this.proto.stack.findRoute(bytes, this.localAddr, null);
    if (route === null) return -Errno.ENETUNREACH;
    const r = this.autobind();
    if (r < 0) return r;
    this.remoteAddr = bytes;
    this.remotePort = addr.port;
    this.route = route;
    return 0;
  }

  listen(_backlog: number): number {
    return -Errno.EOPNOTSUPP;
  }

  accept(): Socket | number {
    return -Errno.EOPNOTSUPP;
  }

  sendto(data: Uint8Array, _flags: number, addr: SockAddr | null): number {
    if (this.closed) return -Errno.EBADF;
    if (this.shutWrite) return -Errno.EPIPE;
    if (this.error !== 0 && addr === null) return -this.takeError();
    let dst: Uint8Array;
    let dport: number;
    let route: Route | null;
    if (addr === null) {
      if (this.remoteAddr === null) return -Errno.EDESTADDRREQ;
      dst = this.remoteAddr;
      dport = this.remotePort;
      route = this.route;
      if (route === null || route.generation !== this.proto.stack.generation) route = this.route = this.proto.stack.findRoute(dst, this.localAddr, null);
    } else {
      const bytes = this.parse(addr);
      if (typeof bytes === "number") return bytes;
      if (addr.port === 0) return -Errno.EINVAL;
      dst = bytes;
      dport = addr.port;
      route = this.proto.stack.findRoute(dst, this.localAddr, null);
    }
    if (route === null) return -Errno.ENETUNREACH;
    if (!this.v6 && (route.nic.isBroadcast4(dst, 0)) && !this.broadcast) return -Errno.EACCES;
    if (data.length > MAX_PAYLOAD || data.length > this.sndbuf) return -Errno.EMSGSIZE;
    const r = this.autobind();
    if (r < 0) return r;

    const buf = defaultPool.alloc(HEADROOM + UDP_HLEN + data.length);
    buf.set(data, HEADROOM + UDP_HLEN);
    this.proto.writeHeader(buf, HEADROOM, this.localPort, dport, data.length, route.src, dst);
    const opts = { ttl: this.ttl, tos: this.tos, df: false };
    const stack = this.proto.stack;
    const err = this.v6
      ? stack.ipv6.send(route, IPPROTO_UDP, buf, HEADROOM, UDP_HLEN + data.length, opts, null)
      : stack.ipv4.send(route, IPPROTO_UDP, buf, HEADROOM, UDP_HLEN + data.length, opts, null);
    if (err < 0) return err;
    stack.counters.udp.OutDatagrams++;
    return data.length;
  }

  recvfrom(buf: Uint8Array, flags: number, from: SockAddr | null): number {
    if (this.closed) return -Errno.EBADF;
    const d = this.queue[0];
    if (d === undefined) {
      if (this.error !== 0) return -this.takeError();
      return this.shutRead ? 0 : -Errno.EAGAIN;
    }
    const n = Math.min(buf.length, d.data.length);
    buf.set(d.data.subarray(0, n));
    if (from !== null) {
      from.address = d.address;
      from.port = d.port;
    }
    if ((flags & MSG_PEEK) === 0) {
      this.queue.shift();
      this.queuedBytes -= d.data.length;
    }
    return n;
  }

  shutdown(how: number): number {
    if (how !== SHUT_RD && how !== SHUT_WR && how !== SHUT_RDWR) return -Errno.EINVAL;
    if (this.remoteAddr === null) return -Errno.ENOTCONN;
    if (how !== SHUT_WR) this.shutRead = true;
    if (how !== SHUT_RD) this.shutWrite = true;
    this.notify();
    return 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.localPort !== 0) {
      this.proto.unregister(this, this.localPort);
      this.proto.ports.release(this.localPort);
    }
    this.queue.length = 0;
    this.queuedBytes = 0;
  }

  setsockopt(level: number, name: number, value: number): number {
    if (level === SOL_SOCKET) {
      if (name === SO_REUSEADDR) this.reuseAddr = value !== 0;
      else if (name === SO_BROADCAST) this.broadcast = value !== 0;
      else if (name === SO_RCVBUF) this.rcvbuf = Math.max(2304, Math.min(value * 2, 64 << 20));
      else if (name === SO_SNDBUF) this.sndbuf = Math.max(4608, Math.min(value * 2, 64 << 20));
      else return -Errno.ENOPROTOOPT;
      return 0;
    }
    if ((level === IPPROTO_IP && name === IP_TTL) || (level === IPPROTO_IPV6 && name === IPV6_UNICAST_HOPS)) {
      if (value === -1) value = 64;
      if (value < 1 || value > 255) return -Errno.EINVAL;
      this.ttl = value;
      return 0;
    }
    if (level === IPPROTO_IP && name === IP_TOS) {
      this.tos = value & 0xff;
      return 0;
    }
    if (level === IPPROTO_IPV6 && name === IPV6_V6ONLY) return value !== 0 ? 0 : -Errno.EINVAL;
    return -Errno.ENOPROTOOPT;
  }

  getsockopt(level: number, name: number): number {
    if (level === SOL_SOCKET) {
      if (name === SO_REUSEADDR) return this.reuseAddr ? 1 : 0;
      if (name === SO_BROADCAST) return this.broadcast ? 1 : 0;
      if (name === SO_RCVBUF) return this.rcvbuf;
      if (name === SO_SNDBUF) return this.sndbuf;
      if (name === SO_TYPE) return SOCK_DGRAM;
      if (name === SO_ERROR) return this.takeError();
      return -Errno.ENOPROTOOPT;
    }
    if ((level === IPPROTO_IP && name === IP_TTL) || (level === IPPROTO_IPV6 && name === IPV6_UNICAST_HOPS)) return this.ttl;
    if (level === IPPROTO_IP && name === IP_TOS) return this.tos;
    if (level === IPPROTO_IPV6 && name === IPV6_V6ONLY) return 1;
    return -Errno.ENOPROTOOPT;
  }

  getsockname(): SockAddr | number {
    const any = this.v6 ? "::" : "0.0.0.0";
    return { address: this.localAddr === null ? any : formatAddress(this.localAddr, 0, this.localAddr.length), port: this.localPort };
  }

  getpeername(): SockAddr | number {
    if (this.remoteAddr === null) return -Errno.ENOTCONN;
    return { address: formatAddress(this.remoteAddr, 0, this.remoteAddr.length), port: this.remotePort };
  }

  readiness(): number {
    let mask = 0;
    if (this.queue.length > 0 || this.shutRead) mask |= EPOLLIN;
    if (!this.shutWrite) mask |= EPOLLOUT;
    if (this.error !== 0) mask |= EPOLLERR;
    return mask;
  }

  private notifyScheduled = false;

  // Readiness events are emitted from a microtask, coalesced, so that a
  // listener never runs inside a socket call or in the middle of packet
  // processing.
  private notify(): void {
    if (this.notifyScheduled || this.listenerCount("readiness") === 0) return;
    this.notifyScheduled = true;
    queueMicrotask(() => {
      this.notifyScheduled = false;
      this.emit("readiness", this.readiness());
    });
  }

  private takeError(): number {
    const e = this.error;
    this.error = 0;
    return e;
  }

  /** Reports whether a datagram from port `sport` of `p` is for this socket. */
  matches(p: RxPacket, sport: number): boolean {
    if (this.closed || this.v6 !== p.v6) return false;
    if (this.localAddr !== null && !p.multicast && !bytesEqual(p.buf, p.dstOff, this.localAddr, 0, p.addrLen)) return false;
    if (this.remoteAddr !== null && (this.remotePort !== sport || !bytesEqual(p.buf, p.srcOff, this.remoteAddr, 0, p.addrLen))) return false;
    return true;
  }

  /** Returns the rank of this socket among matching ones: connected and address-bound sockets win. */
  specificity(): number {
    return (this.remoteAddr !== null ? 2 : 0) + (this.localAddr !== null ? 1 : 0);
  }

  /** Reports whether the socket is connected to the address at `buf[off]` and `port`. */
  isConnectedTo(buf: Uint8Array, off: number, len: number, port: number): boolean {
    return this.remoteAddr !== null && this.remotePort === port && bytesEqual(buf, off, this.remoteAddr, 0, len);
  }

  /** Queues a copy of the payload; returns false if the receive buffer is full. */
  enqueue(p: RxPacket, off: number, len: number, sport: number): boolean {
    if (this.shutRead) return false;
    if (this.queuedBytes + len > this.rcvbuf) {
      this.proto.stack.counters.udp.RcvbufErrors++;
      this.proto.stack.counters.drop("udp-rcvbuf-full");
      return false;
    }
    this.queue.push({ data: p.buf.slice(off, off + len), address: p.srcString(), port: sport });
    this.queuedBytes += len;
    this.notify();
    return true;
  }

  /** Records an ICMP error for the next call (only connected sockets get one, as on Linux). */
  setError(errno: number): void {
    this.error = errno;
    this.notify();
  }
}
