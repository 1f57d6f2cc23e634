import { formatIPv6, parseIPv6, solicitedNodeAddress } from "../address";
import { bytesEqual, get16, put16, put32 } from "../bytes";
import { checksum, pseudoHeaderChecksum } from "../checksum";
import { defaultPool } from "../BufferPool";
import { Errno } from "../errno";
import {
  ICMP_CHECKSUM,
  ICMP_CODE,
  ICMP_ECHO_ID,
  ICMP_HLEN,
  ICMP_TYPE,
  ICMPV6_ADDR_UNREACH,
  ICMPV6_DEST_UNREACH,
  ICMPV6_ECHO_REPLY,
  ICMPV6_ECHO_REQUEST,
  ICMPV6_NOROUTE,
  ICMPV6_PARAMPROB,
  ICMPV6_PKT_TOOBIG,
  ICMPV6_PORT_UNREACH,
  ICMPV6_TIME_EXCEED,
  ND_OPT_SOURCE_LL_ADDR,
  ND_OPT_TARGET_LL_ADDR,
  NDISC_FLAG_OVERRIDE,
  NDISC_FLAG_SOLICITED,
  NDISC_NEIGHBOUR_ADVERTISEMENT,
  NDISC_NEIGHBOUR_SOLICITATION,
  NDISC_OPTIONS,
  NDISC_ROUTER_ADVERTISEMENT,
  NDISC_ROUTER_SOLICITATION,
  NDISC_TARGET,
} from "../header/icmp";
import { IPPROTO_ICMPV6 } from "../header/ipv4";
import { IP6_DST, IP6_NEXT_HEADER, IP6_SRC, IPV6_HLEN, IPV6_MIN_MTU, NEXTHDR_DEST, NEXTHDR_FRAGMENT, NEXTHDR_HOP, NEXTHDR_ROUTING } from "../header/ipv6";
import { HEADROOM } from "./IPv4";
import type { Nic } from "./Nic";
import { RateLimiter } from "./RateLimiter";
import type { Route } from "./Route";
import type { IcmpErrorInfo, RxPacket } from "./RxPacket";
import type { Stack } from "./Stack";

const ALL_NODES = parseIPv6("ff02::1") as Uint8Array;
const NDP_LEN = NDISC_OPTIONS + 8;

/**
 * ICMPv6 (RFC 4443) and neighbour discovery (RFC 4861): echo, errors sent
 * and received, neighbour solicitations and advertisements. Router
 * discovery and redirects are ignored; addresses are configured statically.
 */
export class Icmp6 {
  private readonly limiter = new RateLimiter(1000, 50);

  constructor(private readonly stack: Stack) {}

  /** Handles an ICMPv6 message. */
  receive(p: RxPacket): void {
    const c = this.stack.counters;
    const { buf, l4Off: off, l4Len: len } = p;
    c.icmp6.InMsgs++;
    if (len < 4) {
      c.icmp6.InErrors++;
      c.drop("icmp6-truncated");
      return;
    }
    const sum = pseudoHeaderChecksum(buf, p.srcOff, buf, p.dstOff, 16, IPPROTO_ICMPV6, len);
    if (checksum(buf, off, len, sum) !== 0xffff) {
      c.icmp6.InErrors++;
      c.icmp6.InCsumErrors++;
      c.drop("icmp6-bad-checksum");
      return;
    }
    const type = buf[off + ICMP_TYPE];
    switch (type) {
      case ICMPV6_ECHO_REQUEST:
        c.icmp6.InEchos++;
        if (len >= ICMP_HLEN) this.sendEchoReply(p);
        return;
      case ICMPV6_ECHO_REPLY:
        c.icmp6.InEchoReplies++;
        if (len >= ICMP_HLEN) this.stack.pingSockets.deliver(true, get16(buf, off + ICMP_ECHO_ID), p);
        return;
      case NDISC_NEIGHBOUR_SOLICITATION:
        c.icmp6.InNeighborSolicits++;
        this.receiveSolicitation(p);
        return;
      case NDISC_NEIGHBOUR_ADVERTISEMENT:
        c.icmp6.InNeighborAdvertisements++;
        this.receiveAdvertisement(p);
        return;
      case NDISC_ROUTER_SOLICITATION:
      case NDISC_ROUTER_ADVERTISEMENT:
        return;
      case ICMPV6_DEST_UNREACH:
      case ICMPV6_PKT_TOOBIG:
      case ICMPV6_TIME_EXCEED:
      case ICMPV6_PARAMPROB:
        if (type === ICMPV6_DEST_UNREACH) c.icmp6.InDestUnreachs++;
        if (type === ICMPV6_TIME_EXCEED) c.icmp6.InTimeExcds++;
        if (type === ICMPV6_PARAMPROB) c.icmp6.InParmProblems++;
        this.receiveError(p, type, buf[off + ICMP_CODE]);
        return;
      default:
        c.drop("icmp6-unhandled-type");
    }
  }

  private sendEchoReply(p: RxPacket): void {
    const local = p.multicast ? (p.nic.sourceFor(true, p.srcBytes())?.bytes ?? null) : p.dstBytes();
    if (local === null) return;
    const route = this.stack.findRoute(p.srcBytes(), local, p.nic);
    if (route === null) return;
    const out = defaultPool.alloc(HEADROOM + p.l4Len);
    out.set(p.buf.subarray(p.l4Off, p.l4Off + p.l4Len), HEADROOM);
    out[HEADROOM + ICMP_TYPE] = ICMPV6_ECHO_REPLY;
    out[HEADROOM + ICMP_CODE] = 0;
    this.stack.counters.icmp6.OutEchoReplies++;
    this.sendMessage(route, out, p.l4Len, 64);
  }

  /** Fills in the checksum of the message at HEADROOM and sends it. */
  sendMessage(route: Route, out: Uint8Array, len: number, hopLimit: number): void {
    put16(out, HEADROOM + ICMP_CHECKSUM, 0);
    const sum = pseudoHeaderChecksum(route.src, 0, route.dst, 0, 16, IPPROTO_ICMPV6, len);
    put16(out, HEADROOM + ICMP_CHECKSUM, ~checksum(out, HEADROOM, len, sum) & 0xffff);
    this.stack.counters.icmp6.OutMsgs++;
    this.stack.ipv6.send(route, IPPROTO_ICMPV6, out, HEADROOM, len, { ttl: hopLimit, tos: 0, df: false }, null);
  }

  private linkLayerOption(p: RxPacket, wanted: number): Uint8Array | null | false {
    const { buf } = p;
    let at = p.l4Off + NDISC_OPTIONS;
    const end = p.l4Off + p.l4Len;
    let found: Uint8Array | null = null;
    while (at + 2 <= end) {
      const olen = buf[at + 1] << 3;
      if (olen === 0 || at + olen > end) return false;
      if (buf[at] === wanted && olen >= 8) found = buf.subarray(at + 2, at + 8);
      at += olen;
    }
    return found;
  }

  private receiveSolicitation(p: RxPacket): void {
    const c = this.stack.counters;
    const { buf, l4Off: off } = p;
    if (p.ttl !== 255 || p.l4Len < NDISC_OPTIONS || buf[off + ICMP_CODE] !== 0 || buf[off + NDISC_TARGET] === 0xff) {
      c.drop("ndp-invalid");
      return;
    }
    const target = p.nic.findAddress(buf, off + NDISC_TARGET, 16);
    if (target === null) return;
    const sll = this.linkLayerOption(p, ND_OPT_SOURCE_LL_ADDR);
    if (sll === false) {
      c.drop("ndp-bad-option");
      return;
    }
    const srcUnspecified = bytesEqual(buf, p.srcOff, new Uint8Array(16), 0, 16);
    if (srcUnspecified && sll !== null) {
      c.drop("ndp-invalid");
      return;
    }
    const src = p.srcBytes();
    if (!srcUnspecified && sll !== null) p.nic.ndp.update(formatIPv6(src, 0), src, sll, true);

    // Reply: to the soliciting host, or to all nodes for duplicate address detection.
    const dst = srcUnspecified ? ALL_NODES : src;
    const route: Route = { nic: p.nic, src: target.bytes, dst, nextHop: dst, v6: true, generation: -1 };
    const out = defaultPool.alloc(HEADROOM + NDP_LEN);
    out.fill(0, HEADROOM, HEADROOM + NDP_LEN);
    out[HEADROOM + ICMP_TYPE] = NDISC_NEIGHBOUR_ADVERTISEMENT;
    out[HEADROOM + 4] = (srcUnspecified ? 0 : NDISC_FLAG_SOLICITED) | NDISC_FLAG_OVERRIDE;
    out.set(target.bytes, HEADROOM + NDISC_TARGET);
    out[HEADROOM + NDISC_OPTIONS] = ND_OPT_TARGET_LL_ADDR;
    out[HEADROOM + NDISC_OPTIONS + 1] = 1;
    out.set(p.nic.mac, HEADROOM + NDISC_OPTIONS + 2);
    c.icmp6.OutNeighborAdvertisements++;
    // Without a source link-layer option the advertisement waits in the
    // neighbour table until the sender is resolved (RFC 4861 section 7.2.4).
    this.sendMessage(route, out, NDP_LEN, 255);
  }

  private receiveAdvertisement(p: RxPacket): void {
    const c = this.stack.counters;
    const { buf, l4Off: off } = p;
    if (p.ttl !== 255 || p.l4Len < NDISC_OPTIONS || buf[off + ICMP_CODE] !== 0 || buf[off + NDISC_TARGET] === 0xff) {
      c.drop("ndp-invalid");
      return;
    }
    const tll = this.linkLayerOption(p, ND_OPT_TARGET_LL_ADDR);
    if (tll === false) {
      c.drop("ndp-bad-option");
      return;
    }
    if (tll === null) return;
    const target = buf.slice(off + NDISC_TARGET, off + NDISC_TARGET + 16);
    p.nic.ndp.update(formatIPv6(target, 0), target, tll, false);
  }

  /**
   * Sends a neighbour solicitation for `target`: to its solicited-node
   * multicast address, or straight to `knownMac` to confirm a known entry.
   */
  sendNeighborSolicitation(nic: Nic, target: Uint8Array, knownMac: Uint8Array | null): void {
    const src = nic.sourceFor(true, target);
    if (src === null) return;
    const dst = knownMac === null ? solicitedNodeAddress(target) : target;
    const out = defaultPool.alloc(HEADROOM + NDP_LEN);
    out.fill(0, HEADROOM, HEADROOM + NDP_LEN);
    out[HEADROOM + ICMP_TYPE] = NDISC_NEIGHBOUR_SOLICITATION;
    out.set(target, HEADROOM + NDISC_TARGET);
    out[HEADROOM + NDISC_OPTIONS] = ND_OPT_SOURCE_LL_ADDR;
    out[HEADROOM + NDISC_OPTIONS + 1] = 1;
    out.set(nic.mac, HEADROOM + NDISC_OPTIONS + 2);
    this.stack.counters.icmp6.OutNeighborSolicits++;
    const route: Route = { nic, src: src.bytes, dst, nextHop: dst, v6: true, generation: -1 };
    if (knownMac === null) {
      this.sendMessage(route, out, NDP_LEN, 255);
      return;
    }
    // A unicast probe goes straight to the known MAC, past the neighbour table.
    put16(out, HEADROOM + ICMP_CHECKSUM, 0);
    const sum = pseudoHeaderChecksum(route.src, 0, dst, 0, 16, IPPROTO_ICMPV6, NDP_LEN);
    put16(out, HEADROOM + ICMP_CHECKSUM, ~checksum(out, HEADROOM, NDP_LEN, sum) & 0xffff);
    const ipOff = HEADROOM - IPV6_HLEN;
    put32(out, ipOff, 6 << 28);
    put16(out, ipOff + 4, NDP_LEN);
    out[ipOff + IP6_NEXT_HEADER] = IPPROTO_ICMPV6;
    out[ipOff + 7] = 255;
    out.set(route.src, ipOff + IP6_SRC);
    out.set(dst, ipOff + IP6_DST);
    this.stack.counters.icmp6.OutMsgs++;
    nic.transmit(knownMac, 0x86dd, out, ipOff, IPV6_HLEN + NDP_LEN, null);
  }

  private receiveError(p: RxPacket, type: number, code: number): void {
    const c = this.stack.counters;
    const { buf } = p;
    const inner = p.l4Off + ICMP_HLEN;
    const end = p.l4Off + p.l4Len;
    if (inner + IPV6_HLEN + 8 > end || buf[inner] >>> 4 !== 6) {
      c.icmp6.InErrors++;
      c.drop("icmp6-error-truncated");
      return;
    }
    // Skip the quoted extension headers to find the transport header.
    let next = buf[inner + IP6_NEXT_HEADER];
    let at = inner + IPV6_HLEN;
    while ((next === NEXTHDR_HOP || next === NEXTHDR_DEST || next === NEXTHDR_ROUTING || next === NEXTHDR_FRAGMENT) && at + 8 <= end) {
      const hlen = next === NEXTHDR_FRAGMENT ? 8 : (buf[at + 1] + 1) << 3;
      next = buf[at];
      at += hlen;
    }
    if (at + 8 > end) {
      c.icmp6.InErrors++;
      c.drop("icmp6-error-truncated");
      return;
    }
    let errno: number = Errno.EHOSTUNREACH;
    let hard = false;
    let mtu = 0;
    if (type === ICMPV6_DEST_UNREACH) {
      if (code === ICMPV6_PORT_UNREACH) {
        errno = Errno.ECONNREFUSED;
        hard = true;
      } else if (code === ICMPV6_NOROUTE) errno = Errno.ENETUNREACH;
      else if (code === ICMPV6_ADDR_UNREACH) errno = Errno.EHOSTUNREACH;
      else errno = Errno.EACCES;
    } else if (type === ICMPV6_PKT_TOOBIG) {
      errno = Errno.EMSGSIZE;
      mtu = Math.max(IPV6_MIN_MTU, (get16(buf, p.l4Off + 4) << 16) | get16(buf, p.l4Off + 6));
    } else if (type === ICMPV6_PARAMPROB) {
      errno = Errno.EPROTO;
      hard = true;
    }
    const info: IcmpErrorInfo = { v6: true, buf, srcOff: inner + IP6_SRC, dstOff: inner + IP6_DST, l4Off: at, l4Len: end - at, errno, hard, mtu };
    if (next === IPPROTO_ICMPV6) {
      this.stack.pingSockets.deliverError(info);
      return;
    }
    this.stack.transport(next)?.receiveError(info);
  }

  /**
   * Sends an ICMPv6 error about `buf[ipOff..ipOff+ipLen)`, unless RFC 4443
   * forbids it (about an ICMPv6 error, from an unspecified or multicast
   * source) or the rate limit is reached. `pointer` is the parameter
   * problem pointer.
   */
  sendError(nic: Nic, buf: Uint8Array, ipOff: number, ipLen: number, type: number, code: number, pointer: number): void {
    const c = this.stack.counters;
    if (ipLen < IPV6_HLEN) return;
    const src = buf.slice(ipOff + IP6_SRC, ipOff + IP6_SRC + 16);
    if (src[0] === 0xff || bytesEqual(src, 0, new Uint8Array(16), 0, 16)) return;
    if (buf[ipOff + IP6_NEXT_HEADER] === IPPROTO_ICMPV6 && ipLen > IPV6_HLEN && buf[ipOff + IPV6_HLEN] < 128) return;
    if (!this.limiter.take()) return;
    const local = this.stack.findLocalAddress(buf, ipOff + IP6_DST, 16)?.bytes ?? nic.sourceFor(true, src)?.bytes ?? null;
    if (local === null) return;
    const route = this.stack.findRoute(src, local, null);
    if (route === null) return;
    const quoted = Math.min(ipLen, IPV6_MIN_MTU - IPV6_HLEN - ICMP_HLEN);
    const len = ICMP_HLEN + quoted;
    const out = defaultPool.alloc(HEADROOM + len);
    out.fill(0, HEADROOM, HEADROOM + ICMP_HLEN);
    out[HEADROOM + ICMP_TYPE] = type;
    out[HEADROOM + ICMP_CODE] = code;
    put32(out, HEADROOM + 4, pointer);
    out.set(buf.subarray(ipOff, ipOff + quoted), HEADROOM + ICMP_HLEN);
    if (type === ICMPV6_DEST_UNREACH) c.icmp6.OutDestUnreachs++;
    if (type === ICMPV6_PARAMPROB) c.icmp6.OutParmProblems++;
    if (type === ICMPV6_TIME_EXCEED) c.icmp6.OutTimeExcds++;
    this.sendMessage(route, out, len, 64);
  }
}
