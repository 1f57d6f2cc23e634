import { formatAddress } from "../address";
import { get16, get32, put16, put32 } from "../bytes";
import { checksum, pseudoHeaderChecksum } from "../checksum";
import { defaultPool } from "../BufferPool";
import { IPPROTO_TCP } from "../header/ipv4";
import { TCP_ACK, TCP_CHECKSUM, TCP_DATA_OFFSET, TCP_DST_PORT, TCP_FLAGS, TCP_MIN_HLEN, TCP_SEQ, TCP_SRC_PORT, TCP_URGENT, TCP_WINDOW, TH_ACK, TH_FIN, TH_RST, TH_SYN } from "../header/tcp";
import { RX_CHECKSUM_VALID } from "../link/LinkEndpoint";
import { HEADROOM } from "../stack/IPv4";
import { PortTable } from "../stack/PortTable";
import { RateLimiter } from "../stack/RateLimiter";
import type { IcmpErrorInfo, RxPacket, TransportProtocol } from "../stack/RxPacket";
import type { Nic } from "../stack/Nic";
import type { Stack } from "../stack/Stack";
import { type OutgoingOptions, optionsLength, writeOptions } from "./options";
import { Segment } from "./Segment";
import { SynCookies } from "./SynCookies";
import type { TcpSocket } from "./TcpSocket";

/** TCP tunables of a stack, with Linux's defaults where Linux has one. */
export interface TcpProtocolOptions {
  /** Time in TIME_WAIT (2 MSL), ms; Linux's TCP_TIMEWAIT_LEN is 60 s. */
  timeWaitMs?: number;
  /** Time an orphaned connection may stay in FIN_WAIT_2, ms (tcp_fin_timeout, 60 s). */
  finWait2Ms?: number;
  /** Default congestion control: "cubic" (default) or "reno". */
  congestion?: string;
  /** Default send buffer in bytes (default 1 MiB). */
  sendBuffer?: number;
  /** Default receive buffer in bytes (default 1 MiB). */
  receiveBuffer?: number;
  /** Half-open connections kept per listener before SYN cookies are used (tcp_max_syn_backlog, 1024 here). */
  maxSynBacklog?: number;
  /** SYN retransmissions before connect fails (tcp_syn_retries, 6). */
  synRetries?: number;
  /** SYN-ACK retransmissions before a half-open connection is dropped (tcp_synack_retries, 5). */
  synAckRetries?: number;
  /** Data retransmissions before the connection is dropped (tcp_retries2, 15). */
  retries?: number;
  /** Minimum RTO in ms (TCP_RTO_MIN, 200). */
  minRto?: number;
  /** Delayed ACK timeout in ms (Linux's TCP_DELACK_MIN, 40). */
  delayedAckMs?: number;
  /** Offer and accept SACK (tcp_sack, default true). */
  sack?: boolean;
  /** Offer and accept timestamps (tcp_timestamps, default true). */
  timestamps?: boolean;
  /** Offer and accept window scaling (tcp_window_scaling, default true). */
  windowScaling?: boolean;
}

/**
 * TCP's protocol-wide part: the connection and listener tables, checksum and
 * header validation, RSTs for segments that match no socket, and SYN
 * cookies. Each connection's state machine is in TcpSocket.
 */
export class TcpProtocol implements TransportProtocol {
  /** Ports in use. */
  readonly ports = new PortTable();
  /** Tunables with defaults filled in. */
  readonly config: Required<TcpProtocolOptions>;
  /** Challenge ACKs allowed per second across the stack (tcp_challenge_ack_limit, 1000). */
  readonly challengeLimiter = new RateLimiter(1000, 1000);
  /** ISN and SYN cookie generator. */
  readonly cookies = new SynCookies();
  private readonly connections = new Map<string, TcpSocket>();
  private readonly listeners = new Map<string, TcpSocket>();
  private readonly seg = new Segment();
  /** Sockets holding a port, for bind conflict checks. */
  private readonly bound = new Map<number, Set<TcpSocket>>();

  constructor(readonly stack: Stack, options: TcpProtocolOptions) {
    this.config = {
      timeWaitMs: options.timeWaitMs ?? 60_000,
      finWait2Ms: options.finWait2Ms ?? 60_000,
      congestion: options.congestion ?? "cubic",
      sendBuffer: options.sendBuffer ?? 1 << 20,
      receiveBuffer: options.receiveBuffer ?? 1 << 20,
      maxSynBacklog: options.maxSynBacklog ?? 1024,
      synRetries: options.synRetries ?? 6,
      synAckRetries: options.synAckRetries ?? 5,
      retries: options.retries ?? 15,
      minRto: options.minRto ?? 200,
      delayedAckMs: options.delayedAckMs ?? 40,
      sack: options.sack ?? true,
      timestamps: options.timestamps ?? true,
      windowScaling: options.windowScaling ?? true,
    };
  }

  /** Number of connections in the table (every state but LISTEN and CLOSED). */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** The table key of a connection. */
  static key(local: string, lport: number, remote: string, rport: number): string {
    return `${remote}|${rport}|${local}|${lport}`;
  }

  /** Adds a connection under `key`. */
  addConnection(key: string, s: TcpSocket): void {
    this.connections.set(key, s);
  }

  /** Removes a connection. */
  removeConnection(key: string, s: TcpSocket): void {
    if (this.connections.get(key) === s) this.connections.delete(key);
  }

  /** Finds a connection. */
  findConnection(key: string): TcpSocket | undefined {
    return this.connections.get(key);
  }

  /** Adds a listener. Returns false if one exists already for that address and port. */
  addListener(v6: boolean, local: string, port: number, s: TcpSocket): boolean {
    const key = `${v6}|${local}|${port}`;
    if (this.listeners.has(key)) return false;
    this.listeners.set(key, s);
    return true;
  }

  /** Removes a listener. */
  removeListener(v6: boolean, local: string, port: number, s: TcpSocket): void {
    const key = `${v6}|${local}|${port}`;
    if (this.listeners.get(key) === s) this.listeners.delete(key);
  }

  /** Records that `s` uses `port`. */
  bindPort(port: number, s: TcpSocket): void {
    let set = this.bound.get(port);
    if (set === undefined) {
      set = new Set();
      this.bound.set(port, set);
    }
    set.add(s);
    this.ports.take(port);
  }

  /** Releases a port held by `s`. */
  unbindPort(port: number, s: TcpSocket): void {
    const set = this.bound.get(port);
    if (set === undefined || !set.delete(s)) return;
    if (set.size === 0) this.bound.delete(port);
    this.ports.release(port);
  }

  /** Sockets holding `port`. */
  holders(port: number): Iterable<TcpSocket> {
    return this.bound.get(port) ?? [];
  }

  receive(p: RxPacket): void {
    const c = this.stack.counters;
    const { buf, l4Off: off, l4Len: len } = p;
    c.tcp.InSegs++;
    if (len < TCP_MIN_HLEN) {
      c.tcp.InErrs++;
      c.drop("tcp-truncated");
      return;
    }
    const hlen = (buf[off + TCP_DATA_OFFSET] >>> 4) << 2;
    if (hlen < TCP_MIN_HLEN || hlen > len) {
      c.tcp.InErrs++;
      c.drop("tcp-bad-header-length");
      return;
    }
    if ((p.rxFlags & RX_CHECKSUM_VALID) === 0) {
      const pseudo = pseudoHeaderChecksum(buf, p.srcOff, buf, p.dstOff, p.addrLen, IPPROTO_TCP, len);
      if (checksum(buf, off, len, pseudo) !== 0xffff) {
        c.tcp.InErrs++;
        c.tcp.InCsumErrors++;
        c.drop("tcp-bad-checksum");
        return;
      }
    }
    if (p.multicast) {
      c.drop("tcp-multicast");
      return;
    }
    const s = this.seg;
    s.pkt = p;
    s.buf = buf;
    s.off = off;
    s.dataOff = off + hlen;
    s.dataLen = len - hlen;
    s.srcPort = get16(buf, off + TCP_SRC_PORT);
    s.dstPort = get16(buf, off + TCP_DST_PORT);
    s.seq = get32(buf, off + TCP_SEQ);
    s.ack = get32(buf, off + TCP_ACK);
    s.flags = buf[off + TCP_FLAGS];
    s.window = get16(buf, off + TCP_WINDOW);
    const syn = (s.flags & TH_SYN) !== 0;
    if (!s.options.parse(buf, off + TCP_MIN_HLEN, off + hlen, syn)) {
      c.tcp.InErrs++;
      c.tcpExt.TCPBadOptions++;
      c.drop("tcp-bad-options");
      return;
    }
    if (s.options.badLength > 0) c.tcpExt.TCPBadOptions++;
    if (syn && (s.flags & (TH_RST | TH_FIN)) !== 0) {
      c.tcp.InErrs++;
      c.drop("tcp-bad-flags");
      return;
    }
    if (s.srcPort === 0 || s.dstPort === 0) {
      c.tcp.InErrs++;
      c.drop("tcp-zero-port");
      return;
    }

    const local = formatAddress(buf, p.dstOff, p.addrLen);
    const remote = formatAddress(buf, p.srcOff, p.addrLen);
    const conn = this.connections.get(TcpProtocol.key(local, s.dstPort, remote, s.srcPort));
    if (conn !== undefined) {
      // A SYN may reopen a connection in TIME_WAIT (RFC 6191). The old
      // connection is then gone and the SYN goes on to the listener.
      if (!conn.receiveSegment(s)) return;
    }
    const listener = this.listeners.get(`${p.v6}|${local}|${s.dstPort}`) ?? this.listeners.get(`${p.v6}|*|${s.dstPort}`);
    if (listener !== undefined) {
      listener.listenReceive(s, local, remote);
      return;
    }
    c.drop("tcp-no-socket");
    this.sendResetFor(s);
  }

  receiveError(info: IcmpErrorInfo): void {
    if (info.l4Len < 8) return;
    const alen = info.v6 ? 16 : 4;
    const local = formatAddress(info.buf, info.srcOff, alen);
    const remote = formatAddress(info.buf, info.dstOff, alen);
    const lport = get16(info.buf, info.l4Off + TCP_SRC_PORT);
    const rport = get16(info.buf, info.l4Off + TCP_DST_PORT);
    const seq = get32(info.buf, info.l4Off + TCP_SEQ);
    this.connections.get(TcpProtocol.key(local, lport, remote, rport))?.receiveIcmpError(info.errno, info.hard, info.mtu, seq);
  }

  /** Sends a RST in reply to `s`, as RFC 9293 section 3.10.7.1 describes, unless `s` is itself a RST. */
  sendResetFor(s: Segment): void {
    if (s.flags & TH_RST) return;
    const p = s.pkt;
    if (s.flags & TH_ACK) this.sendBare(p, s.srcPort, s.dstPort, s.ack, 0, TH_RST, 0, null);
    else this.sendBare(p, s.srcPort, s.dstPort, 0, (s.seq + s.seqLen) >>> 0, TH_RST | TH_ACK, 0, null);
  }

  /**
   * Sends a segment without payload back to the sender of `p`, from its
   * destination address and port. Used for RSTs and cookie SYN-ACKs.
   */
  sendBare(p: RxPacket, toPort: number, fromPort: number, seq: number, ack: number, flags: number, window: number, options: OutgoingOptions | null): void {
    const route = this.stack.findRoute(p.srcBytes(), p.dstBytes(), null);
    if (route === null) return;
    const olen = options === null ? 0 : optionsLength(options);
    const hlen = TCP_MIN_HLEN + olen;
    const buf = defaultPool.alloc(HEADROOM + hlen);
    const off = HEADROOM;
    put16(buf, off + TCP_SRC_PORT, fromPort);
    put16(buf, off + TCP_DST_PORT, toPort);
    put32(buf, off + TCP_SEQ, seq);
    put32(buf, off + TCP_ACK, ack);
    buf[off + TCP_DATA_OFFSET] = (hlen >>> 2) << 4;
    buf[off + TCP_FLAGS] = flags;
    put16(buf, off + TCP_WINDOW, window);
    put16(buf, off + TCP_CHECKSUM, 0);
    put16(buf, off + TCP_URGENT, 0);
    if (options !== null) writeOptions(buf, off + TCP_MIN_HLEN, options);
    const pseudo = pseudoHeaderChecksum(route.src, 0, route.dst, 0, route.src.length, IPPROTO_TCP, hlen);
    put16(buf, off + TCP_CHECKSUM, ~checksum(buf, off, hlen, pseudo) & 0xffff);
    if (flags & TH_RST) this.stack.counters.tcp.OutRsts++;
    this.stack.counters.tcp.OutSegs++;
    const opts = { ttl: 64, tos: 0, df: true };
    if (route.v6) this.stack.ipv6.send(route, IPPROTO_TCP, buf, off, hlen, opts, null);
    else this.stack.ipv4.send(route, IPPROTO_TCP, buf, off, hlen, opts, null);
  }

  /** Tells the connections routed through `nic` to `nextHop` that its address could not be resolved. */
  neighborUnreachable(nic: Nic, nextHop: Uint8Array): void {
    for (const s of [...this.connections.values()]) s.neighborUnreachable(nic, nextHop);
  }

  /** Aborts every connection and listener. */
  closeAll(): void {
    for (const s of [...this.connections.values()]) s.destroy();
    for (const s of [...this.listeners.values()]) s.destroy();
  }
}
