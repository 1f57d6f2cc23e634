import { get16, put16 } from "../bytes";
import { checksum } from "../checksum";
import { defaultPool } from "../BufferPool";
import { Errno } from "../errno";
import {
  ICMP_CHECKSUM,
  ICMP_CODE,
  ICMP_DEST_UNREACH,
  ICMP_ECHO,
  ICMP_ECHO_ID,
  ICMP_ECHOREPLY,
  ICMP_FRAG_NEEDED,
  ICMP_HLEN,
  ICMP_HOST_UNREACH,
  ICMP_NET_UNREACH,
  ICMP_PARAMETERPROB,
  ICMP_PORT_UNREACH,
  ICMP_PROT_UNREACH,
  ICMP_TIME_EXCEEDED,
  ICMP_TYPE,
} from "../header/icmp";
import { IP_DST, IP_FRAG, IP_OFFMASK, IP_PROTOCOL, IP_SRC, IP_TOTAL_LENGTH, IPPROTO_ICMP, IPV4_MIN_HLEN } from "../header/ipv4";
import { RX_CHECKSUM_VALID } from "../link/LinkEndpoint";
import { HEADROOM } from "./IPv4";
import type { Nic } from "./Nic";
import { RateLimiter } from "./RateLimiter";
import type { RxPacket } from "./RxPacket";
import type { Stack } from "./Stack";

/** Bytes of the offending packet quoted in an ICMPv4 error, keeping the error within 576 bytes (RFC 1812). */
const QUOTE_MAX = 576 - IPV4_MIN_HLEN - ICMP_HLEN;

/**
 * ICMPv4 (RFC 792): replies to echo requests, sends destination unreachable and
 * time exceeded errors (rate limited like Linux's icmp_ratelimit, 1000 per
 * second), and reports received errors to the transport they quote. Echo
 * requests to broadcast addresses are ignored, as with Linux's default
 * icmp_echo_ignore_broadcasts.
 */
export class Icmp4 {
  private readonly limiter = new RateLimiter(1000, 50);

  constructor(private readonly stack: Stack) {}

  /** Handles an ICMPv4 message. */
  receive(p: RxPacket): void {
    const c = this.stack.counters;
    const { buf, l4Off: off, l4Len: len } = p;
    c.icmp.InMsgs++;
    if (len < ICMP_HLEN) {
      c.icmp.InErrors++;
      c.drop("icmp-truncated");
      return;
    }
    if ((p.rxFlags & RX_CHECKSUM_VALID) === 0 && checksum(buf, off, len) !== 0xffff) {
      c.icmp.InErrors++;
      c.icmp.InCsumErrors++;
      c.drop("icmp-bad-checksum");
      return;
    }
    const type = buf[off + ICMP_TYPE];
    switch (type) {
      case ICMP_ECHO:
        c.icmp.InEchos++;
        if (p.multicast) return;
        this.sendEchoReply(p);
        return;
      case ICMP_ECHOREPLY:
        c.icmp.InEchoReps++;
        this.stack.pingSockets.deliver(false, get16(buf, off + ICMP_ECHO_ID), p);
        return;
      case ICMP_DEST_UNREACH:
        c.icmp.InDestUnreachs++;
        this.receiveError(p, type, buf[off + ICMP_CODE]);
        return;
      case ICMP_TIME_EXCEEDED:
        c.icmp.InTimeExcds++;
        this.receiveError(p, type, buf[off + ICMP_CODE]);
        return;
      case ICMP_PARAMETERPROB:
        this.receiveError(p, type, buf[off + ICMP_CODE]);
        return;
      default:
        c.drop("icmp-unhandled-type");
    }
  }

  private sendEchoReply(p: RxPacket): void {
    const route = this.stack.findRoute(p.srcBytes(), p.dstBytes(), null);
    if (route === null) return;
    const out = defaultPool.alloc(HEADROOM + p.l4Len);
    out.set(p.buf.subarray(p.l4Off, p.l4Off + p.l4Len), HEADROOM);
    out[HEADROOM + ICMP_TYPE] = ICMP_ECHOREPLY;
    out[HEADROOM + ICMP_CODE] = 0;
    put16(out, HEADROOM + ICMP_CHECKSUM, 0);
    put16(out, HEADROOM + ICMP_CHECKSUM, ~checksum(out, HEADROOM, p.l4Len) & 0xffff);
    this.stack.counters.icmp.OutMsgs++;
    this.stack.counters.icmp.OutEchoReps++;
    this.stack.ipv4.send(route, IPPROTO_ICMP, out, HEADROOM, p.l4Len, { ttl: 64, tos: 0, df: false }, null);
  }

  private receiveError(p: RxPacket, type: number, code: number): void {
    const c = this.stack.counters;
    const { buf } = p;
    const inner = p.l4Off + ICMP_HLEN;
    const avail = p.l4Len - ICMP_HLEN;
    if (avail < IPV4_MIN_HLEN + 8 || buf[inner] >>> 4 !== 4) {
      c.icmp.InErrors++;
      c.drop("icmp-error-truncated");
      return;
    }
    const hlen = (buf[inner] & 0xf) << 2;
    if (hlen < IPV4_MIN_HLEN || hlen + 8 > avail) {
      c.icmp.InErrors++;
      c.drop("icmp-error-truncated");
      return;
    }
    let errno: number = Errno.EHOSTUNREACH;
    let hard = false;
    let mtu = 0;
    if (type === ICMP_DEST_UNREACH) {
      hard = true;
      if (code === ICMP_PORT_UNREACH) errno = Errno.ECONNREFUSED;
      else if (code === ICMP_PROT_UNREACH) errno = Errno.ENOPROTOOPT;
      else if (code === ICMP_NET_UNREACH) errno = Errno.ENETUNREACH;
      else if (code === ICMP_FRAG_NEEDED) {
        errno = Errno.EMSGSIZE;
        hard = false;
        mtu = get16(buf, p.l4Off + 6);
      } else if (code !== ICMP_HOST_UNREACH) hard = false;
    } else if (type === ICMP_PARAMETERPROB) {
      errno = Errno.EPROTO;
      hard = true;
    }
    const proto = buf[inner + IP_PROTOCOL];
    const info = {
      v6: false,
      buf,
      srcOff: inner + IP_SRC,
      dstOff: inner + IP_DST,
      l4Off: inner + hlen,
      l4Len: avail - hlen,
      errno,
      hard,
      mtu,
    };
    if (proto === IPPROTO_ICMP) {
      this.stack.pingSockets.deliverError(info);
      return;
    }
    this.stack.transport(proto)?.receiveError(info);
  }

  /**
   * Sends an ICMPv4 error about the packet `buf[ipOff..ipOff+ipLen)`, unless
   * RFC 1122 forbids it (about an ICMP error, a broadcast, a non-initial
   * fragment) or the rate limit is reached.
   */
  sendError(nic: Nic, buf: Uint8Array, ipOff: number, ipLen: number, type: number, code: number): void {
    const c = this.stack.counters;
    if (ipLen < IPV4_MIN_HLEN) return;
    const hlen = (buf[ipOff] & 0xf) << 2;
    if ((get16(buf, ipOff + IP_FRAG) & IP_OFFMASK) !== 0) return;
    if (buf[ipOff + IP_PROTOCOL] === IPPROTO_ICMP) {
      const t = ipLen > hlen ? buf[ipOff + hlen] : 0;
      if (t !== ICMP_ECHO && t !== ICMP_ECHOREPLY) return;
    }
    const src = buf.slice(ipOff + IP_SRC, ipOff + IP_SRC + 4);
    if (src[0] === 0 || src[0] >= 224 || nic.isBroadcast4(src, 0) || nic.isBroadcast4(buf, ipOff + IP_DST) || buf[ipOff + IP_DST] >= 224) return;
    if (!this.limiter.take()) {
      c.icmp.OutRateLimited++;
      return;
    }
    const quoted = Math.min(ipLen, get16(buf, ipOff + IP_TOTAL_LENGTH), QUOTE_MAX);
    const localDst = this.stack.findLocalAddress(buf, ipOff + IP_DST, 4) !== null ? buf.slice(ipOff + IP_DST, ipOff + IP_DST + 4) : null;
    const route = this.stack.findRoute(src, localDst, null);
    if (route === null) return;
    const len = ICMP_HLEN + quoted;
    const out = defaultPool.alloc(HEADROOM + len);
    out.fill(0, HEADROOM, HEADROOM + ICMP_HLEN);
    out[HEADROOM + ICMP_TYPE] = type;
    out[HEADROOM + ICMP_CODE] = code;
    out.set(buf.subarray(ipOff, ipOff + quoted), HEADROOM + ICMP_HLEN);
    put16(out, HEADROOM + ICMP_CHECKSUM, ~checksum(out, HEADROOM, len) & 0xffff);
    c.icmp.OutMsgs++;
    if (type === ICMP_DEST_UNREACH) c.icmp.OutDestUnreachs++;
    if (type === ICMP_TIME_EXCEEDED) c.icmp.OutTimeExcds++;
    this.stack.ipv4.send(route, IPPROTO_ICMP, out, HEADROOM, len, { ttl: 64, tos: 0xc0, df: false }, null);
  }
}
