import { formatAddress, isUnspecified, parseAddress } from "../address";
import { bytesEqual, put16, put32 } from "../bytes";
import { checksum, pseudoHeaderChecksum } from "../checksum";
import { defaultPool } from "../BufferPool";
import { Errno } from "../errno";
import { IPPROTO_TCP, IPV4_MAX_TOTAL } from "../header/ipv4";
import { IPV6_HLEN } from "../header/ipv6";
import { TCP_ACK, TCP_CHECKSUM, TCP_DATA_OFFSET, TCP_DST_PORT, TCP_FLAGS, TCP_MIN_HLEN, TCP_SEQ, TCP_SRC_PORT, TCP_URGENT, TCP_WINDOW, TH_ACK, TH_FIN, TH_PSH, TH_RST, TH_SYN } from "../header/tcp";
import { CAP_GSO, CAP_TX_CHECKSUM_OFFLOAD, GSO_NONE, GSO_TCPV4, GSO_TCPV6, type TxOffload } from "../link/LinkEndpoint";
import { HEADROOM } from "../stack/IPv4";
import type { Nic } from "../stack/Nic";
import type { Route } from "../stack/Route";
import {
  AF_INET,
  AF_INET6,
  EPOLLERR,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  EPOLLRDHUP,
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
  SO_ERROR,
  SO_KEEPALIVE,
  SO_LINGER,
  SO_RCVBUF,
  SO_REUSEADDR,
  SO_SNDBUF,
  SO_TYPE,
  SOCK_STREAM,
  SOL_SOCKET,
  SOL_TCP,
  TCP_CORK,
  TCP_KEEPCNT,
  TCP_KEEPIDLE,
  TCP_KEEPINTVL,
  TCP_MAXSEG,
  TCP_NODELAY,
  TCP_QUICKACK,
} from "../socket/constants";
import { type SockAddr, type Socket, SocketEmitter } from "../socket/Socket";
import { Timer } from "../Timer";
import { ByteRing } from "./ByteRing";
import { OutOfOrderQueue } from "./OutOfOrderQueue";
import { SackScoreboard } from "./SackScoreboard";
import { type CongestionControl, createCongestionControl } from "./Congestion";
import { type OutgoingOptions, optionsLength, writeOptions } from "./options";
import { RttEstimator } from "./RttEstimator";
import type { Segment } from "./Segment";
import { seqAdd, seqDiff, seqGEQ, seqGT, seqLEQ, seqLT } from "./seq";
import { TcpProtocol } from "./TcpProtocol";

/** TCP connection states (RFC 9293 section 3.3.2), numbered as Linux's TCP_* states are not: these are our own. */
export const TcpState = {
  CLOSED: 0,
  LISTEN: 1,
  SYN_SENT: 2,
  SYN_RECEIVED: 3,
  ESTABLISHED: 4,
  FIN_WAIT_1: 5,
  FIN_WAIT_2: 6,
  CLOSE_WAIT: 7,
  CLOSING: 8,
  LAST_ACK: 9,
  TIME_WAIT: 10,
} as const;

const STATE_NAMES = Object.keys(TcpState);

/** A snapshot of a connection, in the spirit of Linux's struct tcp_info. */
export interface TcpInfo {
  /** State name, such as "ESTABLISHED". */
  state: string;
  /** Congestion window in bytes. */
  cwnd: number;
  /** Slow start threshold in bytes. */
  ssthresh: number;
  /** Smoothed RTT in ms. */
  srtt: number;
  /** Current RTO in ms. */
  rto: number;
  /** Send MSS (payload bytes per segment). */
  mss: number;
  /** Segments retransmitted. */
  retransmits: number;
  /** Congestion control name. */
  congestion: string;
  /** Bytes waiting to be read. */
  receiveQueue: number;
  /** Bytes not yet acknowledged or not yet sent. */
  sendQueue: number;
  /** Whether SACK, timestamps and window scaling were negotiated. */
  sack: boolean;
  /** Timestamps negotiated. */
  timestamps: boolean;
  /** Our window scale shift, or -1 without scaling. */
  rcvWscale: number;
  /** The peer's window scale shift, or -1 without scaling. */
  sndWscale: number;
}

/** Largest TCP segment payload with timestamps in one IPv4 packet. */
const MAX_SEGMENT = IPV4_MAX_TOTAL - 20 - 20 - 12;
/** Default MSS when the peer sends none (RFC 9293: 536 for IPv4, 1220 for IPv6). */
const DEFAULT_MSS_V4 = 536;
const DEFAULT_MSS_V6 = 1220;

/**
 * A TCP socket and its connection, following RFC 9293. It implements the
 * state machine, window scaling, timestamps and PAWS (RFC 7323), and SACK
 * (RFC 2018). Losses are repaired with SACK-based recovery (RFC 6675) or,
 * without SACK, NewReno (RFC 6582). The RTO follows RFC 6298, and congestion
 * control is CUBIC by default. Nagle's algorithm, delayed ACKs, keepalive,
 * zero-window probes and the RST, SYN and ACK checks of RFC 5961 are here
 * too. A listening socket keeps half-open children up to maxSynBacklog and
 * replies to further SYNs with SYN cookies.
 */
export class TcpSocket extends SocketEmitter implements Socket {
  readonly domain: number;
  readonly type = SOCK_STREAM;
  readonly protocol = IPPROTO_TCP;

  private st: number = TcpState.CLOSED;
  private localAddr: Uint8Array | null = null;
  private localPort = 0;
  private remoteAddr: Uint8Array | null = null;
  private remotePort = 0;
  private key = "";
  private route: Route | null = null;
  private readonly stack;

  // Socket options.
  private reuseAddr = false;
  private nodelay = false;
  private cork = false;
  private quickack = false;
  private keepalive = false;
  private keepIdle = 7200;
  private keepIntvl = 75;
  private keepCnt = 9;
  private lingerZero = false;
  private userMss = 0;
  private ttl = 64;
  private tos = 0;
  private sndbufLimit: number;
  private rcvbufLimit: number;

  // Listener.
  private backlog = 0;
  private readonly acceptQueue: TcpSocket[] = [];
  private synQueue = 0;
  private parent: TcpSocket | null = null;

  // Send side.
  private iss = 0;
  private sndUna = 0;
  private sndNxt = 0;
  private sndMax = 0;
  private sndWnd = 0;
  private sndWl1 = 0;
  private sndWl2 = 0;
  private maxSndWnd = 0;
  private sndBufSeq = 0;
  private readonly sndBuf: ByteRing;
  private finQueued = false;
  private finSent = false;
  private finSeq = 0;
  private sndWscale = 0;
  private mss = DEFAULT_MSS_V4;
  private segMax = DEFAULT_MSS_V4;

  // Receive side.
  private irs = 0;
  private rcvNxt = 0;
  private rcvAdv = 0;
  private rcvWscale = 0;
  private wscaleOk = false;
  private readonly rcvBuf: ByteRing;
  private readonly ooo = new OutOfOrderQueue();
  private oooFin = -1;
  private finReceived = false;
  private shutRead = false;
  private bytesSinceAck = 0;
  private ackPending = false;

  // Options negotiated.
  private tsOk = false;
  private tsRecent = 0;
  private tsRecentTime = 0;
  private tsOffset = 0;
  private sackOk = false;

  // Loss recovery.
  private readonly scoreboard = new SackScoreboard();
  private highRxt = 0;
  private inRecovery = false;
  private recoverSeq = 0;
  private dupAcks = 0;
  private retransmitHead = false;
  private retries = 0;
  private totalRetrans = 0;
  private cc: CongestionControl;
  private readonly rtt: RttEstimator;
  private rttSeq = 0;
  private rttTime = 0;
  private rttTiming = false;
  private persisting = false;
  private keepaliveProbes = 0;

  // Timers.
  private readonly rtoTimer: Timer;
  private readonly delackTimer: Timer;
  private readonly keepaliveTimer: Timer;
  private readonly stateTimer: Timer;

  private error = 0;
  private userClosed = false;
  private reset = false;
  private connectReported = false;
  private readonly outOptions: OutgoingOptions = { mss: 0, wscale: -1, sackPermitted: false, timestamp: false, tsVal: 0, tsEcr: 0, sack: [] };

  constructor(private readonly proto: TcpProtocol, private readonly v6: boolean) {
    super();
    this.stack = proto.stack;
    this.domain = v6 ? AF_INET6 : AF_INET;
    this.sndbufLimit = proto.config.sendBuffer;
    this.rcvbufLimit = proto.config.receiveBuffer;
    this.sndBuf = new ByteRing(this.sndbufLimit);
    this.rcvBuf = new ByteRing(this.rcvbufLimit);
    this.cc = createCongestionControl(proto.config.congestion, this.mss);
    this.rtt = new RttEstimator(proto.config.minRto);
    this.rtoTimer = new Timer(() => this.onRetransmitTimer());
    this.delackTimer = new Timer(() => this.onDelayedAck());
    this.keepaliveTimer = new Timer(() => this.onKeepalive());
    this.stateTimer = new Timer(() => this.onStateTimer());
  }

  private setState(next: number): void {
    const was = this.st === TcpState.ESTABLISHED || this.st === TcpState.CLOSE_WAIT;
    const now = next === TcpState.ESTABLISHED || next === TcpState.CLOSE_WAIT;
    if (was && !now) this.stack.counters.tcp.CurrEstab--;
    if (!was && now) this.stack.counters.tcp.CurrEstab++;
    this.st = next;
  }

  /** The connection state, one of TcpState. */
  get state(): number {
    return this.st;
  }

  /** The state's name, such as "ESTABLISHED". */
  get stateName(): string {
    return STATE_NAMES[this.st];
  }

  /** Bytes waiting to be read, as ioctl(FIONREAD) reports. */
  get readableBytes(): number {
    return this.rcvBuf.length;
  }

  /** Returns a snapshot of the connection's variables. */
  info(): TcpInfo {
    return {
      state: this.stateName,
      cwnd: this.cc.cwnd,
      ssthresh: this.cc.ssthresh,
      srtt: this.rtt.srtt,
      rto: this.rtt.rto,
      mss: this.mss,
      retransmits: this.totalRetrans,
      congestion: this.cc.name,
      receiveQueue: this.rcvBuf.length,
      sendQueue: this.sndBuf.length,
      sack: this.sackOk,
      timestamps: this.tsOk,
      rcvWscale: this.wscaleOk ? this.rcvWscale : -1,
      sndWscale: this.wscaleOk ? this.sndWscale : -1,
    };
  }

  /** Chooses the congestion control ("cubic" or "reno"), as TCP_CONGESTION. Returns 0 or -ENOENT. */
  setCongestionControl(name: string): number {
    if (name !== "cubic" && name !== "reno") return -Errno.ENOENT;
    const next = createCongestionControl(name, this.mss);
    next.cwnd = this.cc.cwnd;
    next.ssthresh = this.cc.ssthresh;
    this.cc = next;
    return 0;
  }

  // ---- System calls ----

  private parseAddr(addr: SockAddr): Uint8Array | number {
    const bytes = parseAddress(addr.address);
    if (bytes === null || !Number.isInteger(addr.port) || addr.port < 0 || addr.port > 65535) return -Errno.EINVAL;
    if (bytes.length !== (this.v6 ? 16 : 4)) return -Errno.EAFNOSUPPORT;
    return bytes;
  }

  bind(addr: SockAddr): number {
    if (this.st !== TcpState.CLOSED || this.userClosed) return -Errno.EINVAL;
    if (this.localPort !== 0) return -Errno.EINVAL;
    const bytes = this.parseAddr(addr);
    if (typeof bytes === "number") return bytes;
    const any = isUnspecified(addr.address);
    if (!any && this.stack.findLocalAddress(bytes, 0, bytes.length) === null) return -Errno.EADDRNOTAVAIL;
    let port = addr.port;
    if (port === 0) {
      port = this.proto.ports.allocate();
      if (port < 0) return port;
      this.proto.ports.release(port);
    } else {
      for (const other of this.proto.holders(port)) {
        if (other.v6 !== this.v6) continue;
        const overlap = other.localAddr === null || any || formatAddress(other.localAddr, 0, other.localAddr.length) === addr.address;
        if (!overlap) continue;
        // SO_REUSEADDR lets a socket take a port held only by connections,
        // such as ones in TIME_WAIT, but never one with a listener.
        if (this.reuseAddr && other.reuseAddr && other.st !== TcpState.LISTEN) continue;
        if (this.reuseAddr && other.st === TcpState.TIME_WAIT) continue;
        return -Errno.EADDRINUSE;
      }
    }
    this.localAddr = any ? null : bytes;
    this.localPort = port;
    this.proto.bindPort(port, this);
    return 0;
  }

  listen(backlog: number): number {
    if (this.userClosed) return -Errno.EBADF;
    if (this.st === TcpState.LISTEN) {
      this.backlog = Math.max(0, Math.min(backlog, 4096));
      return 0;
    }
    if (this.st !== TcpState.CLOSED) return -Errno.EINVAL;
    if (this.localPort === 0) {
      const r = this.bind({ address: this.v6 ? "::" : "0.0.0.0", port: 0 });
      if (r < 0) return r;
    }
    const local = this.localAddr === null ? "*" : formatAddress(this.localAddr, 0, this.localAddr.length);
    if (!this.proto.addListener(this.v6, local, this.localPort, this)) return -Errno.EADDRINUSE;
    this.backlog = Math.max(0, Math.min(backlog, 4096));
    this.setState(TcpState.LISTEN);
    return 0;
  }

  accept(): Socket | number {
    if (this.st !== TcpState.LISTEN) return -Errno.EINVAL;
    const child = this.acceptQueue.shift();
    if (child === undefined) return -Errno.EAGAIN;
    child.parent = null;
    return child;
  }

  connect(addr: SockAddr | null): number {
    if (addr === null) return -Errno.EINVAL;
    if (this.userClosed) return -Errno.EBADF;
    if (this.st === TcpState.SYN_SENT) return -Errno.EALREADY;
    if (this.st === TcpState.LISTEN) return -Errno.EINVAL;
    if (this.st !== TcpState.CLOSED || this.reset) return -Errno.EISCONN;
    const dst = this.parseAddr(addr);
    if (typeof dst === "number") return dst;
    if (addr.port === 0 || isUnspecified(addr.address)) return -Errno.ECONNREFUSED;
    const route = this.stack.findRoute(dst, this.localAddr, null);
    if (route === null) return -Errno.ENETUNREACH;
    const src = this.localAddr ?? route.src;
    const local = formatAddress(src, 0, src.length);
    const remote = formatAddress(dst, 0, dst.length);

    // Pick the local port: the bound one, or an ephemeral one whose
    // connection key is unused.
    let port = this.localPort;
    if (port === 0) {
      for (let tries = 0; tries < 64; tries++) {
        const p = this.proto.ports.allocate();
        if (p < 0) return -Errno.EADDRNOTAVAIL;
        this.proto.ports.release(p);
        if (this.proto.findConnection(TcpProtocol.key(local, p, remote, addr.port)) === undefined) {
          port = p;
          break;
        }
      }
      if (port === 0) return -Errno.EADDRNOTAVAIL;
      this.localPort = port;
      this.proto.bindPort(port, this);
    }
    const key = TcpProtocol.key(local, port, remote, addr.port);
    if (this.proto.findConnection(key) !== undefined) return -Errno.EADDRNOTAVAIL;

    this.localAddr = src;
    this.remoteAddr = dst;
    this.remotePort = addr.port;
    this.route = route;
    this.key = key;
    this.proto.addConnection(key, this);
    this.setupMss(0);
    this.rcvWscale = this.windowScaleFor(this.rcvbufLimit);
    this.iss = this.proto.cookies.isn(key);
    this.tsOffset = this.proto.cookies.tsOffset(local, remote);
    this.sndUna = this.iss;
    this.sndNxt = seqAdd(this.iss, 1);
    this.sndMax = this.sndNxt;
    this.sndBufSeq = this.sndNxt;
    this.setState(TcpState.SYN_SENT);
    this.stack.counters.tcp.ActiveOpens++;
    this.sendSyn();
    this.rtoTimer.set(this.rtt.rto);
    return -Errno.EINPROGRESS;
  }

  sendto(data: Uint8Array, _flags: number, addr: SockAddr | null): number {
    if (addr !== null && this.st !== TcpState.CLOSED) return -Errno.EISCONN;
    if (this.error !== 0) return -this.takeError();
    switch (this.st) {
      case TcpState.ESTABLISHED:
      case TcpState.CLOSE_WAIT:
        break;
      case TcpState.SYN_SENT:
      case TcpState.SYN_RECEIVED:
        return -Errno.EAGAIN;
      case TcpState.CLOSED:
      case TcpState.LISTEN:
        return this.reset ? -Errno.EPIPE : -Errno.ENOTCONN;
      default:
        return -Errno.EPIPE;
    }
    if (this.finQueued) return -Errno.EPIPE;
    if (data.length === 0) return 0;
    const n = this.sndBuf.write(data, 0, data.length);
    if (n === 0) return -Errno.EAGAIN;
    this.stack.scheduleOutput(this);
    return n;
  }

  recvfrom(buf: Uint8Array, flags: number, from: SockAddr | null): number {
    if (this.st === TcpState.LISTEN) return -Errno.ENOTCONN;
    const avail = this.rcvBuf.length;
    if (avail === 0) {
      if (this.error !== 0) return -this.takeError();
      if (this.finReceived || this.shutRead || this.reset) return 0;
      if (this.st === TcpState.CLOSED) return this.connectReported ? 0 : -Errno.ENOTCONN;
      return -Errno.EAGAIN;
    }
    const n = Math.min(avail, buf.length);
    this.rcvBuf.peek(0, buf, 0, n);
    if (from !== null && this.remoteAddr !== null) {
      from.address = formatAddress(this.remoteAddr, 0, this.remoteAddr.length);
      from.port = this.remotePort;
    }
    if ((flags & MSG_PEEK) === 0) {
      this.rcvBuf.consume(n);
      this.maybeWindowUpdate();
    }
    return n;
  }

  shutdown(how: number): number {
    if (how !== SHUT_RD && how !== SHUT_WR && how !== SHUT_RDWR) return -Errno.EINVAL;
    if (this.st === TcpState.LISTEN) {
      if (how !== SHUT_WR) this.closeListener();
      return 0;
    }
    if (this.st === TcpState.CLOSED || this.st === TcpState.SYN_SENT) return -Errno.ENOTCONN;
    if (how !== SHUT_WR) this.shutRead = true;
    if (how !== SHUT_RD) this.queueFin();
    this.notify();
    return 0;
  }

  close(): void {
    if (this.userClosed) return;
    this.userClosed = true;
    switch (this.st) {
      case TcpState.LISTEN:
        this.closeListener();
        this.finish();
        return;
      case TcpState.CLOSED:
        this.finish();
        return;
      case TcpState.SYN_SENT:
        this.finish();
        return;
      default:
        break;
    }
    if (this.lingerZero || this.rcvBuf.length > 0) {
      // Unread data (RFC 2525 2.17) or SO_LINGER with zero time: abort.
      this.sendRst(this.sndNxt);
      if (this.st === TcpState.ESTABLISHED || this.st === TcpState.CLOSE_WAIT) this.stack.counters.tcp.EstabResets++;
      this.finish();
      return;
    }
    this.queueFin();
    if (this.st === TcpState.FIN_WAIT_2) this.stateTimer.set(this.proto.config.finWait2Ms);
  }

  setsockopt(level: number, name: number, value: number): number {
    if (level === SOL_SOCKET) {
      switch (name) {
        case SO_REUSEADDR:
          this.reuseAddr = value !== 0;
          return 0;
        case SO_KEEPALIVE:
          this.keepalive = value !== 0;
          if (this.keepalive && this.isSynchronized()) this.keepaliveTimer.set(this.keepIdle * 1000);
          else this.keepaliveTimer.cancel();
          return 0;
        case SO_LINGER:
          this.lingerZero = value === 0;
          return 0;
        case SO_SNDBUF:
          this.sndbufLimit = Math.max(4608, Math.min(value * 2, 64 << 20));
          this.sndBuf.limit = this.sndbufLimit;
          return 0;
        case SO_RCVBUF:
          this.rcvbufLimit = Math.max(2304, Math.min(value * 2, 64 << 20));
          // The window scale is fixed at the handshake, and the advertised
          // right edge never moves back, so a smaller buffer takes effect as
          // the peer's data is read.
          this.rcvBuf.limit = this.rcvbufLimit;
          return 0;
        default:
          return -Errno.ENOPROTOOPT;
      }
    }
    if (level === SOL_TCP) {
      switch (name) {
        case TCP_NODELAY:
          this.nodelay = value !== 0;
          if (this.nodelay) this.stack.scheduleOutput(this);
          return 0;
        case TCP_CORK:
          this.cork = value !== 0;
          if (!this.cork) this.stack.scheduleOutput(this);
          return 0;
        case TCP_QUICKACK:
          this.quickack = value !== 0;
          return 0;
        case TCP_MAXSEG:
          if (value < 88 || value > 65495) return -Errno.EINVAL;
          this.userMss = value;
          return 0;
        case TCP_KEEPIDLE:
        case TCP_KEEPINTVL:
        case TCP_KEEPCNT:
          if (value < 1 || value > 32767) return -Errno.EINVAL;
          if (name === TCP_KEEPIDLE) this.keepIdle = value;
          if (name === TCP_KEEPINTVL) this.keepIntvl = value;
          if (name === TCP_KEEPCNT) this.keepCnt = value;
          if (this.keepalive && this.isSynchronized()) this.keepaliveTimer.set(this.keepIdle * 1000);
          return 0;
        default:
          return -Errno.ENOPROTOOPT;
      }
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
      switch (name) {
        case SO_REUSEADDR:
          return this.reuseAddr ? 1 : 0;
        case SO_KEEPALIVE:
          return this.keepalive ? 1 : 0;
        case SO_SNDBUF:
          return this.sndbufLimit;
        case SO_RCVBUF:
          return this.rcvbufLimit;
        case SO_TYPE:
          return SOCK_STREAM;
        case SO_ERROR:
          return this.takeError();
        default:
          return -Errno.ENOPROTOOPT;
      }
    }
    if (level === SOL_TCP) {
      switch (name) {
        case TCP_NODELAY:
          return this.nodelay ? 1 : 0;
        case TCP_CORK:
          return this.cork ? 1 : 0;
        case TCP_QUICKACK:
          return this.quickack ? 1 : 0;
        case TCP_MAXSEG:
          return this.isSynchronized() ? this.mss : this.userMss || DEFAULT_MSS_V4;
        case TCP_KEEPIDLE:
          return this.keepIdle;
        case TCP_KEEPINTVL:
          return this.keepIntvl;
        case TCP_KEEPCNT:
          return this.keepCnt;
        default:
          return -Errno.ENOPROTOOPT;
      }
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
    if (this.remoteAddr === null || !this.isSynchronized()) return -Errno.ENOTCONN;
    return { address: formatAddress(this.remoteAddr, 0, this.remoteAddr.length), port: this.remotePort };
  }

  readiness(): number {
    let mask = 0;
    if (this.error !== 0) mask |= EPOLLERR;
    if (this.st === TcpState.LISTEN) return mask | (this.acceptQueue.length > 0 ? EPOLLIN : 0);
    if (this.rcvBuf.length > 0 || this.finReceived || this.shutRead || this.reset) mask |= EPOLLIN;
    if (this.finReceived) mask |= EPOLLRDHUP;
    const canSend = this.st === TcpState.ESTABLISHED || this.st === TcpState.CLOSE_WAIT;
    if (canSend && !this.finQueued && this.sndBuf.free >= Math.min(this.sndbufLimit >>> 2, 65536)) mask |= EPOLLOUT;
    if (this.reset || (this.st === TcpState.CLOSED && this.connectReported)) mask |= EPOLLHUP | EPOLLOUT | EPOLLIN;
    if ((this.finReceived || this.shutRead) && this.finQueued) mask |= EPOLLHUP;
    return mask;
  }

  // ---- Helpers ----

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

  private isSynchronized(): boolean {
    return this.st >= TcpState.ESTABLISHED;
  }

  private windowScaleFor(limit: number): number {
    let s = 0;
    while (s < 14 && limit >>> s > 65535) s++;
    return s;
  }

  private tsNow(): number {
    return (Math.floor(performance.now()) + this.tsOffset) >>> 0;
  }

  // Computes the MSS to announce and, once the peer's is known, the send MSS
  // and the largest segment (bigger than the MSS where the link does GSO).
  private setupMss(peerMss: number): number {
    const route = this.route as Route;
    const ipHdr = this.v6 ? IPV6_HLEN : 20;
    let ours = Math.min(route.nic.mtu - ipHdr - TCP_MIN_HLEN, 65535 - ipHdr - TCP_MIN_HLEN);
    if (this.userMss > 0) ours = Math.min(ours, this.userMss);
    if (peerMss > 0) {
      let mss = Math.min(ours, peerMss);
      if (this.tsOk) mss -= 12;
      this.mss = Math.max(64, Math.min(mss, MAX_SEGMENT));
      const link = route.nic.link;
      this.segMax = this.mss;
      if ((link.capabilities & CAP_GSO) !== 0 && link.gsoMaxSize > 0) {
        const room = Math.min(link.gsoMaxSize, 65535) - ipHdr - TCP_MIN_HLEN - 40;
        this.segMax = Math.max(this.mss, Math.floor(room / this.mss) * this.mss);
      }
    }
    return ours;
  }

  private queueFin(): void {
    if (this.finQueued) return;
    switch (this.st) {
      case TcpState.SYN_RECEIVED:
      case TcpState.ESTABLISHED:
        this.setState(TcpState.FIN_WAIT_1);
        break;
      case TcpState.CLOSE_WAIT:
        this.setState(TcpState.LAST_ACK);
        break;
      default:
        return;
    }
    this.finQueued = true;
    this.stack.scheduleOutput(this);
  }

  private closeListener(): void {
    this.proto.removeListener(this.v6, this.localAddr === null ? "*" : formatAddress(this.localAddr, 0, this.localAddr.length), this.localPort, this);
    for (const child of this.acceptQueue) child.abort(0, true);
    this.acceptQueue.length = 0;
    this.setState(TcpState.CLOSED);
  }

  /** Aborts the connection at once, optionally with a RST, and reports `errno`. */
  private abort(errno: number, sendRst: boolean): void {
    if (sendRst && this.isSynchronized()) this.sendRst(this.sndNxt);
    if (errno !== 0) this.error = errno;
    this.reset = true;
    this.finish();
  }

  /** Tears the connection down without sending anything. Used when the stack closes. */
  destroy(): void {
    if (this.st === TcpState.LISTEN) this.closeListener();
    this.userClosed = true;
    this.finish();
  }

  // Moves to CLOSED: cancels timers and leaves the tables. The port stays
  // bound until the user closes the socket.
  private finish(): void {
    if (this.st === TcpState.SYN_RECEIVED && this.parent !== null) this.parent.synQueue--;
    this.setState(TcpState.CLOSED);
    this.rtoTimer.cancel();
    this.delackTimer.cancel();
    this.keepaliveTimer.cancel();
    this.stateTimer.cancel();
    if (this.key !== "") this.proto.removeConnection(this.key, this);
    if ((this.userClosed || this.parent !== null) && this.localPort !== 0) {
      this.proto.unbindPort(this.localPort, this);
    }
    this.ooo.clear();
    this.scoreboard.clear();
    this.notify();
  }

  // ---- Passive open ----

  /** Handles a segment for a listening socket. */
  listenReceive(seg: Segment, local: string, remote: string): void {
    const c = this.stack.counters;
    const f = seg.flags;
    if (f & TH_RST) return;
    const tuple = TcpProtocol.key(local, seg.dstPort, remote, seg.srcPort);

    if (f & TH_ACK && !(f & TH_SYN)) {
      // Possibly the last step of a handshake that got a SYN cookie.
      const mss = this.proto.cookies.check(tuple, seqAdd(seg.seq, -1), seqAdd(seg.ack, -1));
      if (mss === 0 || this.acceptQueue.length > this.backlog) {
        if (mss === 0) c.tcpExt.SyncookiesFailed++;
        this.proto.sendResetFor(seg);
        return;
      }
      c.tcpExt.SyncookiesRecv++;
      const child = new TcpSocket(this.proto, this.v6);
      child.inherit(this);
      if (!child.initPassive(this, seg, tuple, mss, seqAdd(seg.ack, -1))) return;
      child.established();
      child.receiveEstablished(seg);
      return;
    }
    if (!(f & TH_SYN)) return;

    if (this.acceptQueue.length > this.backlog) {
      c.tcpExt.ListenOverflows++;
      c.tcpExt.ListenDrops++;
      c.drop("tcp-listen-overflow");
      return;
    }
    if (this.synQueue >= this.proto.config.maxSynBacklog) {
      // SYN flood: reply with a cookie and keep no state.
      const peerMss = seg.options.mss || (this.v6 ? DEFAULT_MSS_V6 : DEFAULT_MSS_V4);
      const cookie = this.proto.cookies.make(tuple, seg.seq, peerMss);
      c.tcpExt.SyncookiesSent++;
      const o = this.outOptions;
      o.mss = cookie.mss;
      o.wscale = -1;
      o.sackPermitted = false;
      o.timestamp = false;
      o.sack = [];
      this.proto.sendBare(seg.pkt, seg.srcPort, seg.dstPort, cookie.isn, seqAdd(seg.seq, 1), TH_SYN | TH_ACK, 65535, o);
      return;
    }

    const child = new TcpSocket(this.proto, this.v6);
    child.inherit(this);
    if (!child.initPassive(this, seg, tuple, 0, -1)) return;
    this.synQueue++;
    c.tcp.PassiveOpens++;
    child.sendSyn();
    child.rtoTimer.set(child.rtt.rto);
  }

  private inherit(listener: TcpSocket): void {
    this.nodelay = listener.nodelay;
    this.keepalive = listener.keepalive;
    this.keepIdle = listener.keepIdle;
    this.keepIntvl = listener.keepIntvl;
    this.keepCnt = listener.keepCnt;
    this.sndbufLimit = listener.sndbufLimit;
    this.rcvbufLimit = listener.rcvbufLimit;
    this.sndBuf.limit = this.sndbufLimit;
    this.rcvBuf.limit = this.rcvbufLimit;
    this.userMss = listener.userMss;
    this.ttl = listener.ttl;
    this.tos = listener.tos;
    this.cc = createCongestionControl(listener.cc.name, this.mss);
  }

  // Sets up a child from a SYN (or, for a cookie, from the final ACK with
  // `cookieMss` and `cookieIss`). Returns false if there is no route back.
  private initPassive(parent: TcpSocket, seg: Segment, key: string, cookieMss: number, cookieIss: number): boolean {
    const p = seg.pkt;
    this.remoteAddr = p.srcBytes();
    this.localAddr = p.dstBytes();
    this.route = this.stack.findRoute(this.remoteAddr, this.localAddr, null);
    if (this.route === null) return false;
    this.remotePort = seg.srcPort;
    this.localPort = seg.dstPort;
    this.parent = parent;
    this.key = key;
    this.userClosed = false;
    this.tsOffset = this.proto.cookies.tsOffset(formatAddress(this.localAddr, 0, this.localAddr.length), formatAddress(this.remoteAddr, 0, this.remoteAddr.length));
    this.proto.bindPort(this.localPort, this);
    this.proto.addConnection(key, this);

    const o = seg.options;
    if (cookieMss > 0) {
      this.irs = seqAdd(seg.seq, -1);
      this.rcvNxt = seg.seq;
      this.iss = cookieIss;
      this.sndUna = seqAdd(cookieIss, 1);
      this.sndNxt = this.sndUna;
      this.rcvWscale = 0;
      this.sndWscale = 0;
      this.setupMss(cookieMss);
      this.setState(TcpState.SYN_RECEIVED);
      this.parent.synQueue++;
    } else {
      this.irs = seg.seq;
      this.rcvNxt = seqAdd(seg.seq, 1);
      this.iss = this.proto.cookies.isn(key);
      this.sndUna = this.iss;
      this.sndNxt = seqAdd(this.iss, 1);
      const cfg = this.proto.config;
      this.wscaleOk = cfg.windowScaling && o.wscale >= 0;
      this.sndWscale = this.wscaleOk ? o.wscale : 0;
      this.rcvWscale = this.wscaleOk ? this.windowScaleFor(this.rcvbufLimit) : 0;
      this.sackOk = cfg.sack && o.sackPermitted;
      this.tsOk = cfg.timestamps && o.hasTimestamp;
      if (this.tsOk) {
        this.tsRecent = o.tsVal;
        this.tsRecentTime = performance.now();
      }
      this.setupMss(o.mss || (this.v6 ? DEFAULT_MSS_V6 : DEFAULT_MSS_V4));
      this.setState(TcpState.SYN_RECEIVED);
    }

    this.sndMax = this.sndNxt;
    this.sndBufSeq = this.sndNxt;
    this.sndWnd = seg.window;
    this.sndWl1 = seg.seq;
    this.sndWl2 = seg.ack;
    this.rcvAdv = this.rcvNxt;
    this.cc.cwnd = 10 * this.mss;
    return true;
  }

  private established(): void {
    this.setState(TcpState.ESTABLISHED);
    this.retries = 0;
    if (this.keepalive) this.keepaliveTimer.set(this.keepIdle * 1000);
    const parent = this.parent;
    if (parent !== null) {
      parent.synQueue--;
      if (parent.st !== TcpState.LISTEN) {
        this.abort(0, true);
        return;
      }
      parent.acceptQueue.push(this);
      parent.notify();
    } else {
      this.connectReported = true;
      this.notify();
    }
  }

  // ---- Input ----

  /**
   * Handles a segment for this connection. Returns true only when the
   * segment must go on to the listener: a new SYN that ends a connection in
   * TIME_WAIT.
   */
  receiveSegment(seg: Segment): boolean {
    const c = this.stack.counters;
    if (this.keepalive) {
      this.keepaliveProbes = 0;
      if (this.isSynchronized()) this.keepaliveTimer.set(this.keepIdle * 1000);
    }
    switch (this.st) {
      case TcpState.SYN_SENT:
        this.receiveSynSent(seg);
        this.flushIfNeeded();
        return false;
      case TcpState.TIME_WAIT:
        return this.receiveTimeWait(seg);
      case TcpState.CLOSED:
      case TcpState.LISTEN:
        c.drop("tcp-closed");
        return false;
      default:
        this.receiveEstablished(seg);
        this.flushIfNeeded();
        return false;
    }
  }

  private flushIfNeeded(): void {
    if (this.ackPending || this.sndBuf.length > 0 || this.finQueued) this.stack.scheduleOutput(this);
  }

  private receiveSynSent(seg: Segment): void {
    const f = seg.flags;
    const c = this.stack.counters;
    if (f & TH_ACK) {
      if (seqLEQ(seg.ack, this.iss) || seqGT(seg.ack, this.sndMax)) {
        if (!(f & TH_RST)) this.proto.sendResetFor(seg);
        c.drop("tcp-bad-ack");
        return;
      }
    }
    if (f & TH_RST) {
      if (f & TH_ACK) {
        c.tcp.AttemptFails++;
        this.error = Errno.ECONNREFUSED;
        this.reset = true;
        this.connectReported = true;
        this.finish();
      }
      return;
    }
    if (!(f & TH_SYN)) return;

    const o = seg.options;
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.rcvAdv = seqAdd(this.rcvNxt, Math.min(this.rcvBuf.free, 65535));
    const cfg = this.proto.config;
    this.wscaleOk = cfg.windowScaling && o.wscale >= 0;
    this.sndWscale = this.wscaleOk ? o.wscale : 0;
    if (!this.wscaleOk) this.rcvWscale = 0;
    this.sackOk = cfg.sack && o.sackPermitted;
    this.tsOk = cfg.timestamps && o.hasTimestamp;
    if (this.tsOk) {
      this.tsRecent = o.tsVal;
      this.tsRecentTime = performance.now();
    }
    this.setupMss(o.mss || (this.v6 ? DEFAULT_MSS_V6 : DEFAULT_MSS_V4));
    this.cc.cwnd = 10 * this.mss;
    this.sndWnd = seg.window;
    this.maxSndWnd = this.sndWnd;
    this.sndWl1 = seg.seq;
    this.sndWl2 = seg.ack;

    if (f & TH_ACK) {
      if (!this.rttTiming && this.rtt.backoff === 0) this.rtt.sample(performance.now() - this.rttTime);
      this.sndUna = seg.ack;
      this.rtoTimer.cancel();
      this.established();
      this.ackPending = true;
      return;
    }
    // Simultaneous open: both SYNs crossed.
    this.setState(TcpState.SYN_RECEIVED);
    this.sendSyn();
  }

  private receiveTimeWait(seg: Segment): boolean {
    const f = seg.flags;
    if (f & TH_RST) {
      // RFC 1337: a RST must not end TIME_WAIT early.
      return false;
    }
    if (f & TH_SYN && !(f & TH_ACK)) {
      // A new SYN with a higher sequence number (or a newer timestamp) may
      // reuse the connection's four-tuple (RFC 6191).
      const o = seg.options;
      const newer = this.tsOk && o.hasTimestamp ? seqGT(o.tsVal, this.tsRecent) : seqGT(seg.seq, this.rcvNxt);
      if (newer) {
        this.stack.counters.tcpExt.TCPTimeWaitRecycled++;
        this.userClosed = true;
        this.finish();
        return true;
      }
    }
    if (f & TH_FIN) {
      // A retransmitted FIN: our ACK was lost. Acknowledge and restart 2MSL.
      this.stateTimer.set(this.proto.config.timeWaitMs);
    }
    this.sendAck();
    return false;
  }

  private sendChallengeAck(): void {
    if (!this.proto.challengeLimiter.take()) return;
    this.stack.counters.tcpExt.TCPChallengeACK++;
    this.sendAck();
  }

  /** Processes a segment in a synchronized state (RFC 9293 section 3.10.7.4). */
  private receiveEstablished(seg: Segment): void {
    const c = this.stack.counters;
    const f = seg.flags;
    const o = seg.options;

    // PAWS (RFC 7323 section 5).
    if (this.tsOk && o.hasTimestamp && !(f & TH_RST) && seqLT(o.tsVal, this.tsRecent) && performance.now() - this.tsRecentTime < 24 * 24 * 3600 * 1000) {
      c.tcpExt.PAWSEstab++;
      c.drop("tcp-paws");
      this.sendAck();
      return;
    }

    // Acceptability: does any of the segment fall inside the receive window?
    const wnd = Math.max(0, seqDiff(this.rcvAdv, this.rcvNxt));
    const len = seg.seqLen;
    let ok: boolean;
    if (len === 0) ok = wnd === 0 ? seg.seq === this.rcvNxt : seqGEQ(seg.seq, this.rcvNxt) && seqLT(seg.seq, seqAdd(this.rcvNxt, wnd)) || seg.seq === this.rcvNxt;
    else ok = wnd > 0 && ((seqGEQ(seg.seq, this.rcvNxt) && seqLT(seg.seq, seqAdd(this.rcvNxt, wnd))) || (seqGEQ(seqAdd(seg.seq, len - 1), this.rcvNxt) && seqLT(seqAdd(seg.seq, len - 1), seqAdd(this.rcvNxt, wnd))) || (seqLT(seg.seq, this.rcvNxt) && seqGT(seqAdd(seg.seq, len), this.rcvNxt)));
    if (!ok && len > 0 && wnd === 0 && seg.seq === this.rcvNxt) ok = true; // zero-window probe carrying data
    if (!ok) {
      if (f & TH_RST) {
        c.drop("tcp-rst-out-of-window");
        return;
      }
      c.drop("tcp-out-of-window");
      // Send an ACK, at most one per 500 ms for segments without data (Linux's tcp_invalid_ratelimit).
      const now = performance.now();
      if (seg.dataLen > 0 || now - this.lastInvalidAck >= 500) {
        this.lastInvalidAck = now;
        this.sendAck();
      }
      return;
    }

    // RST (RFC 5961 section 3): exact match resets, else challenge.
    if (f & TH_RST) {
      if (seg.seq !== this.rcvNxt) {
        this.sendChallengeAck();
        return;
      }
      if (this.st === TcpState.SYN_RECEIVED && this.parent !== null) {
        this.finish();
        return;
      }
      if (this.st === TcpState.ESTABLISHED || this.st === TcpState.CLOSE_WAIT) c.tcp.EstabResets++;
      let errno: number = Errno.ECONNRESET;
      if (this.st === TcpState.SYN_RECEIVED) errno = Errno.ECONNREFUSED;
      else if (this.st === TcpState.CLOSE_WAIT) errno = Errno.EPIPE;
      this.error = errno;
      this.reset = true;
      this.finish();
      return;
    }

    // SYN in a synchronized state (RFC 5961 section 4): challenge ACK.
    if (f & TH_SYN) {
      if (this.st === TcpState.SYN_RECEIVED && seg.seq === this.irs) {
        this.sendSyn();
        return;
      }
      this.sendChallengeAck();
      return;
    }

    if (!(f & TH_ACK)) {
      c.drop("tcp-no-ack");
      return;
    }

    // Record the timestamp to echo (RFC 7323 section 4.3).
    if (this.tsOk && o.hasTimestamp && seqLEQ(seg.seq, this.rcvNxt)) {
      this.tsRecent = o.tsVal;
      this.tsRecentTime = performance.now();
    }

    if (this.st === TcpState.SYN_RECEIVED) {
      if (seqLEQ(seg.ack, this.sndUna) || seqGT(seg.ack, this.sndMax)) {
        this.proto.sendResetFor(seg);
        return;
      }
      this.sndWnd = seg.window << this.sndWscale;
      this.maxSndWnd = this.sndWnd;
      this.sndWl1 = seg.seq;
      this.sndWl2 = seg.ack;
      this.sndUna = seqAdd(this.sndUna, 1);
      this.rtoTimer.cancel();
      if (!this.rttTiming && this.rtt.backoff === 0 && this.rttTime > 0) this.rtt.sample(performance.now() - this.rttTime);
      this.established();
      if ((this.st as number) !== TcpState.ESTABLISHED) return;
    }

    if (!this.processAck(seg)) return;

    // Payload.
    if (seg.dataLen > 0) {
      if (this.st === TcpState.ESTABLISHED || this.st === TcpState.FIN_WAIT_1 || this.st === TcpState.FIN_WAIT_2) {
        if (this.userClosed) {
          // Data for a socket already closed by its user: abort (RFC 2525 2.17).
          c.tcpExt.TCPAbortOnData++;
          this.abort(0, true);
          return;
        }
        this.receiveData(seg);
      }
    }

    // FIN.
    if (f & TH_FIN) this.receiveFin(seqAdd(seg.seq, seg.dataLen));
  }

  // Processes the ACK field. Returns false if the segment must be dropped.
  private processAck(seg: Segment): boolean {
    const ack = seg.ack;
    // RFC 5961 section 5: an ACK for data never sent, or far too old.
    if (seqGT(ack, this.sndMax)) {
      this.sendChallengeAck();
      return false;
    }
    if (seqLT(ack, seqAdd(this.sndUna, -Math.max(this.maxSndWnd, 65535)))) {
      this.sendChallengeAck();
      return false;
    }

    const o = seg.options;
    const window = seg.window << this.sndWscale;
    const windowChanged = window !== this.sndWnd;
    if (this.sackOk && o.sackCount > 0) this.scoreboard.update(o.sack, o.sackCount, this.sndUna, this.sndMax);

    if (seqGT(ack, this.sndUna)) {
      const acked = seqDiff(ack, this.sndUna);
      // RTT sample: from the echoed timestamp, else from the timed segment (Karn).
      let rttMs = 0;
      if (this.tsOk && o.hasTimestamp && o.tsEcr !== 0) {
        rttMs = Math.max(0.05, ((this.tsNow() - o.tsEcr) >>> 0) & 0x7fffffff);
        if (rttMs < 3_600_000) this.rtt.sample(rttMs);
      } else if (this.rttTiming && seqGEQ(ack, this.rttSeq)) {
        rttMs = performance.now() - this.rttTime;
        this.rtt.sample(rttMs);
      }
      if (this.rttTiming && seqGEQ(ack, this.rttSeq)) this.rttTiming = false;

      // Drop acknowledged data from the send queue.
      const bufEnd = seqAdd(this.sndBufSeq, this.sndBuf.length);
      const dataAcked = seqDiff(seqLT(ack, bufEnd) ? ack : bufEnd, this.sndBufSeq);
      if (dataAcked > 0) {
        const wasFull = (this.readiness() & EPOLLOUT) === 0;
        this.sndBuf.consume(dataAcked);
        this.sndBufSeq = seqAdd(this.sndBufSeq, dataAcked);
        if (wasFull && (this.readiness() & EPOLLOUT) !== 0) this.notify();
      }
      this.sndUna = ack;
      if (seqLT(this.sndNxt, ack)) this.sndNxt = ack;
      this.retries = 0;
      this.dupAcks = 0;
      this.scoreboard.trim(ack);

      if (this.inRecovery) {
        if (seqGEQ(ack, this.recoverSeq)) {
          this.inRecovery = false;
          this.cc.cwnd = Math.max(this.cc.ssthresh, 2 * this.mss);
        } else if (!this.sackOk) {
          this.retransmitHead = true; // NewReno partial ACK
        }
        if (seqLT(this.highRxt, ack)) this.highRxt = ack;
      } else {
        this.cc.onAck(acked, this.mss, rttMs);
      }

      if (this.sndUna === this.sndMax) this.rtoTimer.cancel();
      else this.rtoTimer.set(this.rtt.rto);
      this.persisting = false;

      // Our FIN acknowledged?
      if (this.finSent && seqGT(ack, this.finSeq)) this.finAcked();
    } else if (ack === this.sndUna && seg.dataLen === 0 && !windowChanged && this.sndMax !== this.sndUna && !(seg.flags & TH_FIN)) {
      this.dupAcks++;
    }

    // Window update (RFC 9293 section 3.10.7.4).
    if (seqLT(this.sndWl1, seg.seq) || (this.sndWl1 === seg.seq && seqLEQ(this.sndWl2, ack))) {
      const opened = this.sndWnd === 0 && window > 0;
      this.sndWnd = window;
      this.maxSndWnd = Math.max(this.maxSndWnd, window);
      this.sndWl1 = seg.seq;
      this.sndWl2 = ack;
      if (opened) {
        this.persisting = false;
        this.rtt.backoff = 0;
      }
    }

    // Loss detection: three duplicate ACKs, or SACK showing data three MSS
    // beyond a hole (RFC 6675's DupThresh).
    if (!this.inRecovery && this.sndMax !== this.sndUna && (this.dupAcks >= 3 || (this.sackOk && this.scoreboard.sackedBytes >= 3 * this.mss))) {
      if (seqGT(this.sndUna, this.recoverSeq) || this.recoverSeq === 0 || this.sackOk) this.enterRecovery();
    }
    if (this.sndMax !== this.sndUna || this.sndBuf.length > 0 || this.finQueued) this.stack.scheduleOutput(this);
    return true;
  }

  private enterRecovery(): void {
    const c = this.stack.counters;
    this.inRecovery = true;
    this.recoverSeq = this.sndMax;
    this.highRxt = this.sndUna;
    this.retransmitHead = !this.sackOk;
    const flight = seqDiff(this.sndMax, this.sndUna);
    this.cc.onLoss(flight, this.mss);
    c.tcpExt.TCPFastRetrans++;
    if (this.sackOk) c.tcpExt.TCPSackRecovery++;
    else c.tcpExt.TCPRenoRecovery++;
  }

  private finAcked(): void {
    switch (this.st) {
      case TcpState.FIN_WAIT_1:
        this.setState(TcpState.FIN_WAIT_2);
        if (this.userClosed) this.stateTimer.set(this.proto.config.finWait2Ms);
        this.notify();
        break;
      case TcpState.CLOSING:
        this.enterTimeWait();
        break;
      case TcpState.LAST_ACK:
        this.finish();
        break;
      default:
        break;
    }
  }

  private enterTimeWait(): void {
    this.setState(TcpState.TIME_WAIT);
    this.rtoTimer.cancel();
    this.keepaliveTimer.cancel();
    this.stateTimer.set(this.proto.config.timeWaitMs);
    this.notify();
  }

  // Bytes presumed in the network (RFC 6675's pipe, simplified).
  private pipe(): number {
    const outstanding = seqDiff(this.sndNxt, this.sndUna);
    if (!this.inRecovery) return Math.max(0, outstanding - this.scoreboard.sackedBytes);
    if (!this.sackOk) return Math.max(0, outstanding - this.dupAcks * this.mss);
    // Unsacked bytes below the highest SACK that were not retransmitted yet are lost.
    const from = seqLT(this.highRxt, this.sndUna) ? this.sndUna : this.highRxt;
    return Math.max(0, outstanding - this.scoreboard.sackedBytes - this.scoreboard.holeBytes(from));
  }

  private receiveData(seg: Segment): void {
    const c = this.stack.counters;
    let seq = seg.seq;
    let off = seg.dataOff;
    let len = seg.dataLen;
    // Trim what we already have, and what lies beyond the window.
    if (seqLT(seq, this.rcvNxt)) {
      const skip = seqDiff(this.rcvNxt, seq);
      if (skip >= len) {
        this.ackPending = true;
        return;
      }
      seq = this.rcvNxt;
      off += skip;
      len -= skip;
    }
    const right = seqAdd(this.rcvNxt, Math.max(this.rcvBuf.free, seqDiff(this.rcvAdv, this.rcvNxt)));
    if (seqGT(seqAdd(seq, len), right)) {
      len = Math.max(0, seqDiff(right, seq));
      if (len === 0) {
        c.tcpExt.TCPRcvQDrop++;
        c.drop("tcp-beyond-window");
        this.ackPending = true;
        return;
      }
    }

    if (seq === this.rcvNxt) {
      const n = this.rcvBuf.write(seg.buf, off, len);
      this.rcvNxt = seqAdd(this.rcvNxt, n);
      this.bytesSinceAck += n;
      if (this.ooo.length > 0) {
        this.rcvNxt = this.ooo.drain(this.rcvNxt, (data, at, n) => this.rcvBuf.write(data, at, n));
        if (this.oooFin >= 0 && this.oooFin === this.rcvNxt) {
          this.oooFin = -1;
          this.receiveFin(this.rcvNxt);
        }
        this.ackPending = true;
      }
      if (this.quickack || this.bytesSinceAck >= 2 * this.mss || (seg.flags & TH_PSH && this.bytesSinceAck >= this.mss)) this.ackPending = true;
      else if (!this.delackTimer.pending) this.delackTimer.set(this.proto.config.delayedAckMs);
      this.notify();
      return;
    }

    // Out of order: keep a copy and send a duplicate ACK (with SACK blocks)
    // at once, one per segment, so the sender can count them (RFC 5681 4.2).
    c.tcpExt.TCPOFOQueue++;
    if (!this.ooo.insert(seq, seg.buf.slice(off, off + len))) c.tcpExt.TCPOFODrop++;
    this.sendAck();
  }

  private receiveFin(finSeq: number): void {
    if (finSeq !== this.rcvNxt) {
      if (seqGT(finSeq, this.rcvNxt)) this.oooFin = finSeq;
      return;
    }
    if (this.finReceived) {
      this.ackPending = true;
      return;
    }
    this.rcvNxt = seqAdd(this.rcvNxt, 1);
    this.finReceived = true;
    this.ackPending = true;
    switch (this.st) {
      case TcpState.SYN_RECEIVED:
      case TcpState.ESTABLISHED:
        this.setState(TcpState.CLOSE_WAIT);
        break;
      case TcpState.FIN_WAIT_1:
        this.setState(TcpState.CLOSING);
        break;
      case TcpState.FIN_WAIT_2:
        this.enterTimeWait();
        break;
      default:
        break;
    }
    this.notify();
  }

  private maybeWindowUpdate(): void {
    if (!this.isSynchronized() || this.finReceived) return;
    const edge = seqAdd(this.rcvNxt, this.rcvBuf.free);
    const grow = seqDiff(edge, this.rcvAdv);
    if (grow >= Math.min(this.rcvBuf.limit >>> 1, 2 * this.mss) || seqDiff(this.rcvAdv, this.rcvNxt) < this.mss && grow >= this.mss) {
      this.ackPending = true;
      this.stack.scheduleOutput(this);
    }
  }

  /** Handles an ICMP error about this connection. */
  receiveIcmpError(errno: number, hard: boolean, mtu: number, seq: number): void {
    if (seqLT(seq, this.sndUna) || seqGT(seq, this.sndMax)) return;
    if (mtu > 0 && this.route !== null) {
      // Path MTU discovery: shrink the MSS (RFC 1191, RFC 8201).
      const ipHdr = this.v6 ? IPV6_HLEN : 20;
      const mss = mtu - ipHdr - TCP_MIN_HLEN - (this.tsOk ? 12 : 0);
      if (mss >= 64 && mss < this.mss) {
        this.mss = mss;
        this.segMax = mss;
        this.sndNxt = this.sndUna;
        this.stack.scheduleOutput(this);
      }
      return;
    }
    if (this.st === TcpState.SYN_SENT && hard) {
      this.stack.counters.tcp.AttemptFails++;
      this.error = errno;
      this.reset = true;
      this.connectReported = true;
      this.finish();
      return;
    }
    // Soft error: reported only if the connection later times out.
    this.softError = errno;
  }

  /**
   * Handles a failed neighbour resolution on this connection's path. A
   * connect in progress fails with EHOSTUNREACH, as on Linux. Otherwise the
   * error is kept as a soft error.
   */
  neighborUnreachable(nic: Nic, nextHop: Uint8Array): void {
    const r = this.route;
    if (r === null || r.nic !== nic || r.nextHop.length !== nextHop.length || !bytesEqual(r.nextHop, 0, nextHop, 0, nextHop.length)) return;
    if (this.st === TcpState.SYN_SENT) {
      this.stack.counters.tcp.AttemptFails++;
      this.error = Errno.EHOSTUNREACH;
      this.reset = true;
      this.connectReported = true;
      this.finish();
      return;
    }
    this.softError = Errno.EHOSTUNREACH;
  }

  private softError = 0;
  private lastInvalidAck = -Infinity;

  // ---- Output ----

  /** Sends what the connection may send now. Called by the stack at the end of a batch. */
  flushOutput(): void {
    if (this.st < TcpState.ESTABLISHED && this.st !== TcpState.SYN_RECEIVED) return;
    if (this.st !== TcpState.SYN_RECEIVED && this.st !== TcpState.TIME_WAIT) this.transmit();
    if (this.ackPending) this.sendAck();
  }

  private transmit(): void {
    const mss = this.mss;
    if (this.inRecovery) this.retransmitLost();

    // Segments beyond the MSS only go to a link that segments them (GSO);
    // the route may have moved to one that does not.
    const gsoLink = this.route !== null && (this.route.nic.link.capabilities & CAP_GSO) !== 0;
    const segMax = gsoLink ? this.segMax : mss;

    const bufEnd = seqAdd(this.sndBufSeq, this.sndBuf.length);
    for (;;) {
      const unsent = seqDiff(bufEnd, this.sndNxt);
      if (unsent <= 0) break;
      const inFlight = this.pipe();
      const cwndRoom = Math.floor(this.cc.cwnd) - inFlight;
      const wndRoom = seqDiff(seqAdd(this.sndUna, this.sndWnd), this.sndNxt);
      let len = Math.min(unsent, segMax, wndRoom);
      if (cwndRoom < len) len = cwndRoom >= mss || cwndRoom >= unsent ? cwndRoom : 0;
      if (len <= 0) {
        if (this.sndWnd === 0 && this.sndUna === this.sndMax && !this.rtoTimer.pending) {
          this.persisting = true;
          this.rtoTimer.set(this.rtt.rto);
        }
        break;
      }
      if (len < mss && len < unsent) {
        // Window-limited: avoid silly segments unless nothing is in flight.
        if (inFlight > 0 && len < this.maxSndWnd / 2) break;
      }
      if (len < mss && len === unsent && !this.finQueued) {
        if (this.cork) break;
        if (!this.nodelay && seqDiff(this.sndMax, this.sndUna) > 0 && this.sndNxt === this.sndMax) break; // Nagle
      }
      if (len > mss && len % mss !== 0 && len < unsent) len -= len % mss;
      const fin = this.finQueued && seqAdd(this.sndNxt, len) === bufEnd && (!this.finSent || seqAdd(this.sndNxt, len) === this.finSeq);
      this.sendData(this.sndNxt, len, TH_ACK | (len === unsent ? TH_PSH : 0) | (fin ? TH_FIN : 0));
      this.sndNxt = seqAdd(this.sndNxt, len);
      if (fin) {
        this.finSeq = this.sndNxt;
        this.finSent = true;
        this.sndNxt = seqAdd(this.sndNxt, 1);
      }
      if (seqGT(this.sndNxt, this.sndMax)) this.sndMax = this.sndNxt;
      if (!this.rtoTimer.pending || this.persisting) {
        this.persisting = false;
        this.rtoTimer.set(this.rtt.rto);
      }
    }
    // A FIN alone, once all data is out.
    if (this.finQueued && this.sndNxt === bufEnd && (!this.finSent || this.sndNxt === this.finSeq)) {
      this.sendData(this.sndNxt, 0, TH_ACK | TH_FIN);
      this.finSeq = this.sndNxt;
      this.finSent = true;
      this.sndNxt = seqAdd(this.sndNxt, 1);
      if (seqGT(this.sndNxt, this.sndMax)) this.sndMax = this.sndNxt;
      if (!this.rtoTimer.pending) this.rtoTimer.set(this.rtt.rto);
    }
  }

  // Retransmits segments presumed lost during recovery, as cwnd allows.
  private retransmitLost(): void {
    const mss = this.mss;
    const bufEnd = seqAdd(this.sndBufSeq, this.sndBuf.length);
    if (!this.sackOk) {
      if (this.retransmitHead && seqLT(this.sndUna, this.sndMax)) {
        this.retransmitHead = false;
        this.resend(this.sndUna, Math.min(mss, seqDiff(this.sndMax, this.sndUna)), bufEnd);
      }
      return;
    }
    for (let guard = 0; guard < 1000 && this.pipe() < this.cc.cwnd; guard++) {
      const from = seqLT(this.highRxt, this.sndUna) ? this.sndUna : this.highRxt;
      const hole = this.scoreboard.nextHole(from);
      if (hole === null) return;
      const len = Math.min(mss, seqDiff(hole[1], hole[0]));
      this.resend(hole[0], len, bufEnd);
      this.highRxt = seqAdd(hole[0], len);
    }
  }

  private resend(seq: number, len: number, bufEnd: number): void {
    if (this.finSent && seqGEQ(seq, this.finSeq)) {
      this.sendData(this.finSeq, 0, TH_ACK | TH_FIN);
      return;
    }
    len = Math.min(len, seqDiff(bufEnd, seq));
    const fin = this.finSent && seqAdd(seq, len) === this.finSeq;
    this.sendData(seq, len, TH_ACK | (fin ? TH_FIN : 0));
  }

  private sendSyn(): void {
    const o = this.outOptions;
    const ours = this.setupMss(0);
    o.mss = ours;
    o.sack = [];
    if (this.st === TcpState.SYN_SENT) {
      const cfg = this.proto.config;
      o.wscale = cfg.windowScaling ? this.rcvWscale : -1;
      o.sackPermitted = cfg.sack;
      o.timestamp = cfg.timestamps;
      o.tsVal = this.tsNow();
      o.tsEcr = 0;
      this.sendSegment(this.iss, 0, TH_SYN, o);
    } else {
      o.wscale = this.wscaleOk ? this.rcvWscale : -1;
      o.sackPermitted = this.sackOk;
      o.timestamp = this.tsOk;
      o.tsVal = this.tsNow();
      o.tsEcr = this.tsRecent;
      this.sendSegment(this.iss, 0, TH_SYN | TH_ACK, o);
    }
    if (this.rtt.backoff === 0) this.rttTime = performance.now();
  }

  private dataOptions(): OutgoingOptions {
    const o = this.outOptions;
    o.mss = 0;
    o.wscale = -1;
    o.sackPermitted = false;
    o.timestamp = this.tsOk;
    if (this.tsOk) {
      o.tsVal = this.tsNow();
      o.tsEcr = this.tsRecent;
    }
    o.sack = [];
    if (this.sackOk && this.ooo.length > 0) o.sack = this.ooo.sackBlocks(this.tsOk ? 3 : 4);
    return o;
  }

  private sendData(seq: number, len: number, flags: number): void {
    if (seqLT(seq, this.sndMax)) {
      this.stack.counters.tcp.RetransSegs++;
      this.totalRetrans++;
    } else if (!this.rttTiming && !this.tsOk && len > 0) {
      this.rttTiming = true;
      this.rttSeq = seqAdd(seq, len);
      this.rttTime = performance.now();
    }
    this.sendSegment(seq, len, flags, this.dataOptions());
  }

  private sendAck(): void {
    if (this.st === TcpState.CLOSED || this.st === TcpState.LISTEN || this.st === TcpState.SYN_SENT) return;
    this.sendSegment(this.sndNxt, 0, TH_ACK, this.dataOptions());
  }

  private sendRst(seq: number): void {
    this.sendSegment(seq, 0, TH_RST | TH_ACK, null);
    this.stack.counters.tcp.OutRsts++;
  }

  private windowField(flags: number): number {
    const free = this.rcvBuf.free;
    if (flags & TH_SYN) {
      const w = Math.min(free, 65535);
      if (this.st !== TcpState.SYN_SENT && seqGT(seqAdd(this.rcvNxt, w), this.rcvAdv)) this.rcvAdv = seqAdd(this.rcvNxt, w);
      return w;
    }
    // Never move the right edge back (RFC 9293), and do not announce small
    // increases (receiver silly window avoidance, RFC 1122 4.2.3.3).
    let edge = seqAdd(this.rcvNxt, free);
    if (seqLT(edge, this.rcvAdv)) edge = this.rcvAdv;
    else if (seqDiff(edge, this.rcvAdv) < Math.min(this.rcvBuf.limit >>> 1, this.mss)) edge = seqGT(this.rcvAdv, this.rcvNxt) ? this.rcvAdv : this.rcvNxt;
    const wnd = Math.max(0, seqDiff(edge, this.rcvNxt));
    const field = Math.min(Math.ceil(wnd / (1 << this.rcvWscale)), 65535);
    const adv = seqAdd(this.rcvNxt, field << this.rcvWscale);
    if (seqGT(adv, this.rcvAdv)) this.rcvAdv = adv;
    return field;
  }

  private sendSegment(seq: number, len: number, flags: number, options: OutgoingOptions | null): void {
    let route = this.route;
    if (route === null) return;
    if (route.generation !== this.stack.generation) {
      const fresh = this.stack.findRoute(route.dst, route.src, null);
      if (fresh === null) return;
      route = this.route = fresh;
    }
    const c = this.stack.counters;
    const olen = options === null ? 0 : optionsLength(options);
    const hlen = TCP_MIN_HLEN + olen;
    const total = hlen + len;
    const buf = defaultPool.alloc(HEADROOM + total);
    const off = HEADROOM;
    put16(buf, off + TCP_SRC_PORT, this.localPort);
    put16(buf, off + TCP_DST_PORT, this.remotePort);
    put32(buf, off + TCP_SEQ, seq);
    const ackFlag = (flags & TH_ACK) !== 0;
    put32(buf, off + TCP_ACK, ackFlag ? this.rcvNxt : 0);
    buf[off + TCP_DATA_OFFSET] = (hlen >>> 2) << 4;
    buf[off + TCP_FLAGS] = flags;
    put16(buf, off + TCP_WINDOW, flags & TH_RST ? 0 : this.windowField(flags));
    put16(buf, off + TCP_CHECKSUM, 0);
    put16(buf, off + TCP_URGENT, 0);
    if (options !== null) writeOptions(buf, off + TCP_MIN_HLEN, options);
    if (len > 0) this.sndBuf.peek(seqDiff(seq, this.sndBufSeq), buf, off + hlen, len);

    const caps = route.nic.link.capabilities;
    const pseudo = pseudoHeaderChecksum(route.src, 0, route.dst, 0, route.src.length, IPPROTO_TCP, total);
    let offload: TxOffload | null = null;
    const gso = len > this.mss;
    if (gso || (caps & CAP_TX_CHECKSUM_OFFLOAD) !== 0) {
      put16(buf, off + TCP_CHECKSUM, pseudo);
      let gsoType = GSO_NONE;
      if (gso) gsoType = this.v6 ? GSO_TCPV6 : GSO_TCPV4;
      offload = { csumStart: 0, csumOffset: TCP_CHECKSUM, gsoType, gsoSize: this.mss, hdrLen: hlen };
    } else {
      put16(buf, off + TCP_CHECKSUM, ~checksum(buf, off, total, pseudo) & 0xffff);
    }

    if (ackFlag) {
      this.ackPending = false;
      this.bytesSinceAck = 0;
      this.delackTimer.cancel();
    }
    c.tcp.OutSegs++;
    const opts = { ttl: this.ttl, tos: this.tos, df: true };
    const r = this.v6 ? this.stack.ipv6.send(route, IPPROTO_TCP, buf, off, total, opts, offload) : this.stack.ipv4.send(route, IPPROTO_TCP, buf, off, total, opts, offload);
    if (r < 0) c.drop("tcp-send-failed");
  }

  // ---- Timers ----

  private onRetransmitTimer(): void {
    const c = this.stack.counters;
    const cfg = this.proto.config;
    if (this.st === TcpState.SYN_SENT || this.st === TcpState.SYN_RECEIVED) {
      this.retries++;
      const limit = this.st === TcpState.SYN_SENT ? cfg.synRetries : cfg.synAckRetries;
      if (this.retries > limit) {
        if (this.st === TcpState.SYN_SENT) {
          c.tcp.AttemptFails++;
          this.error = this.softError || Errno.ETIMEDOUT;
          this.reset = true;
          this.connectReported = true;
        }
        this.finish();
        return;
      }
      this.rtt.backOff();
      c.tcp.RetransSegs++;
      this.sendSyn();
      this.rtoTimer.set(this.rtt.rto);
      return;
    }
    if (this.persisting) {
      // Zero-window probe: an old sequence number makes the peer send an ACK with its window.
      c.tcpExt.TCPZeroWindowProbes++;
      this.sendSegment(seqAdd(this.sndUna, -1), 0, TH_ACK, this.dataOptions());
      this.rtt.backOff();
      this.rtoTimer.set(this.rtt.rto);
      return;
    }
    if (this.sndUna === this.sndMax) return;

    this.retries++;
    if (this.retries > cfg.retries) {
      c.tcpExt.TCPAbortOnTimeout++;
      this.abort(this.softError || Errno.ETIMEDOUT, true);
      return;
    }

    c.tcpExt.TCPTimeouts++;
    this.cc.onTimeout(this.pipe(), this.mss);
    this.inRecovery = false;
    this.recoverSeq = this.sndMax;
    this.dupAcks = 0;
    this.scoreboard.clear();
    this.rttTiming = false;
    this.sndNxt = this.sndUna;
    this.rtt.backOff();
    this.rtoTimer.set(this.rtt.rto);
    this.transmit();
  }

  private onDelayedAck(): void {
    if (!this.isSynchronized()) return;
    this.stack.counters.tcpExt.DelayedACKs++;
    this.sendAck();
  }

  private onKeepalive(): void {
    if (!this.keepalive || !this.isSynchronized() || this.st === TcpState.TIME_WAIT) return;
    if (this.keepaliveProbes >= this.keepCnt) {
      this.abort(Errno.ETIMEDOUT, true);
      return;
    }
    this.keepaliveProbes++;
    this.stack.counters.tcpExt.TCPKeepAliveProbes++;
    this.sendSegment(seqAdd(this.sndUna, -1), 0, TH_ACK, this.dataOptions());
    this.keepaliveTimer.set(this.keepIntvl * 1000);
  }

  private onStateTimer(): void {
    if (this.st === TcpState.TIME_WAIT) {
      this.finish();
      return;
    }
    if (this.st === TcpState.FIN_WAIT_2 && this.userClosed) this.abort(0, true);
  }
}
