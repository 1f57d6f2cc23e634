import { formatAddress, parseAddress } from "../address";
import { put16 } from "../bytes";
import { checksum } from "../checksum";
import { defaultPool } from "../BufferPool";
import { Errno } from "../errno";
import { ICMP_CHECKSUM, ICMP_CODE, ICMP_ECHO, ICMP_ECHO_ID, ICMP_HLEN, ICMP_TYPE, ICMPV6_ECHO_REQUEST } from "../header/icmp";
import { IPPROTO_ICMP, IPPROTO_ICMPV6 } from "../header/ipv4";
import { HEADROOM } from "../stack/IPv4";
import type { IcmpErrorInfo, RxPacket } from "../stack/RxPacket";
import type { Stack } from "../stack/Stack";
import { AF_INET, AF_INET6, EPOLLERR, EPOLLIN, EPOLLOUT, SO_ERROR, SOCK_DGRAM, SOL_SOCKET } from "../socket/constants";
import { type SockAddr, type Socket, SocketEmitter } from "../socket/Socket";

/** The ICMP echo sockets of a stack, by family and echo identifier. */
export class PingSocketTable {
  private readonly sockets = new Map<string, PingSocket>();
  private next = 1 + Math.floor(Math.random() * 60000);

  /** Registers `sock` under a free identifier; returns it, or -EADDRINUSE/-EAGAIN. */
  register(sock: PingSocket, v6: boolean, id: number): number {
    if (id === 0) {
      for (let i = 0; i < 65535; i++) {
        const cand = this.next;
        this.next = (this.next % 65535) + 1;
        if (!this.sockets.has(`${v6}|${cand}`)) {
          id = cand;
          break;
        }
      }
      if (id === 0) return -Errno.EAGAIN;
    } else if (this.sockets.has(`${v6}|${id}`)) return -Errno.EADDRINUSE;
    this.sockets.set(`${v6}|${id}`, sock);
    return id;
  }

  /** Removes a registration. */
  unregister(v6: boolean, id: number): void {
    this.sockets.delete(`${v6}|${id}`);
  }

  /** Delivers an echo reply to the socket with identifier `id`. */
  deliver(v6: boolean, id: number, p: RxPacket): void {
    this.sockets.get(`${v6}|${id}`)?.enqueue(p);
  }

  /** Delivers an ICMP error that quotes one of our echo requests. */
  deliverError(info: IcmpErrorInfo): void {
    if (info.l4Len < ICMP_HLEN) return;
    const id = (info.buf[info.l4Off + ICMP_ECHO_ID] << 8) | info.buf[info.l4Off + ICMP_ECHO_ID + 1];
    this.sockets.get(`${info.v6}|${id}`)?.setError(info.errno);
  }

  /** Closes every socket. */
  closeAll(): void {
    for (const s of [...this.sockets.values()]) s.close();
  }
}

/**
 * An ICMP echo socket, as Linux's ping sockets (SOCK_DGRAM with IPPROTO_ICMP
 * or IPPROTO_ICMPV6): the caller sends an echo request header plus payload,
 * the stack sets the identifier to the socket's bound one and fills in the
 * checksum, and echo replies with that identifier are queued for recvfrom.
 */
export class PingSocket extends SocketEmitter implements Socket {
  readonly domain: number;
  readonly type = SOCK_DGRAM;
  readonly protocol: number;
  private id = 0;
  private readonly queue: { data: Uint8Array; address: string }[] = [];
  private error = 0;
  private closed = false;

  constructor(private readonly stack: Stack, private readonly v6: boolean) {
    super();
    this.domain = v6 ? AF_INET6 : AF_INET;
    this.protocol = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
  }

  bind(addr: SockAddr): number {
    if (this.id !== 0) return -Errno.EINVAL;
    const r = this.stack.pingSockets.register(this, this.v6, addr.port);
    if (r < 0) return r;
    this.id = r;
    return 0;
  }

  connect(_addr: SockAddr | null): number {
    return -Errno.EOPNOTSUPP;
  }

  listen(_backlog: number): number {
    return -Errno.EOPNOTSUPP;
  }

  accept(): Socket | number {
    return -Errno.EOPNOTSUPP;
  }

  sendto(data: Uint8Array, _flags: number, addr: SockAddr | null): number {
    if (this.closed) return -Errno.EBADF;
    if (addr === null) return -Errno.EDESTADDRREQ;
    const dst = parseAddress(addr.address);
    if (dst === null || dst.length !== (this.v6 ? 16 : 4)) return -Errno.EINVAL;
    if (data.length < ICMP_HLEN || data.length > 65507) return -Errno.EINVAL;
    if (data[ICMP_TYPE] !== (this.v6 ? ICMPV6_ECHO_REQUEST : ICMP_ECHO) || data[ICMP_CODE] !== 0) return -Errno.EINVAL;
    if (this.id === 0) {
      const r = this.bind({ address: this.v6 ? "::" : "0.0.0.0", port: 0 });
      if (r < 0) return r;
    }
    const route = this.stack.findRoute(dst, null, null);
    if (route === null) return -Errno.ENETUNREACH;
    const buf = defaultPool.alloc(HEADROOM + data.length);
    buf.set(data, HEADROOM);
    put16(buf, HEADROOM + ICMP_ECHO_ID, this.id);
    put16(buf, HEADROOM + ICMP_CHECKSUM, 0);
    const opts = { ttl: 64, tos: 0, df: false };
    if (this.v6) {
      this.stack.counters.icmp6.OutEchos++;
      this.stack.icmp6.sendMessage(route, buf, data.length, 64);
    } else {
      put16(buf, HEADROOM + ICMP_CHECKSUM, ~checksum(buf, HEADROOM, data.length) & 0xffff);
      this.stack.counters.icmp.OutMsgs++;
      this.stack.counters.icmp.OutEchos++;
      const r = this.stack.ipv4.send(route, IPPROTO_ICMP, buf, HEADROOM, data.length, opts, null);
      if (r < 0) return r;
    }
    return data.length;
  }

  recvfrom(buf: Uint8Array, _flags: number, from: SockAddr | null): number {
    const d = this.queue.shift();
    if (d === undefined) {
      if (this.error !== 0) {
        const e = this.error;
        this.error = 0;
        return -e;
      }
      return -Errno.EAGAIN;
    }
    const n = Math.min(buf.length, d.data.length);
    buf.set(d.data.subarray(0, n));
    if (from !== null) {
      from.address = d.address;
      from.port = this.id;
    }
    return n;
  }

  shutdown(_how: number): number {
    return -Errno.ENOTCONN;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.id !== 0) this.stack.pingSockets.unregister(this.v6, this.id);
  }

  setsockopt(_level: number, _name: number, _value: number): number {
    return -Errno.ENOPROTOOPT;
  }

  getsockopt(level: number, name: number): number {
    if (level === SOL_SOCKET && name === SO_ERROR) {
      const e = this.error;
      this.error = 0;
      return e;
    }
    return -Errno.ENOPROTOOPT;
  }

  getsockname(): SockAddr | number {
    return { address: this.v6 ? "::" : "0.0.0.0", port: this.id };
  }

  getpeername(): SockAddr | number {
    return -Errno.ENOTCONN;
  }

  readiness(): number {
    return (this.queue.length > 0 ? EPOLLIN : 0) | EPOLLOUT | (this.error !== 0 ? EPOLLERR : 0);
  }

  /** Queues a copy of an echo reply. */
  enqueue(p: RxPacket): void {
    if (this.queue.length >= 256) return;
    this.queue.push({ data: p.buf.slice(p.l4Off, p.l4Off + p.l4Len), address: formatAddress(p.buf, p.srcOff, p.addrLen) });
    this.notify();
  }

  private notify(): void {
    if (this.listenerCount("readiness") > 0) queueMicrotask(() => this.emit("readiness", this.readiness()));
  }

  /** Records an ICMP error about one of our requests. */
  setError(errno: number): void {
    this.error = errno;
    this.notify();
  }
}
