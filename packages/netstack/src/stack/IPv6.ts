import { formatIPv6 } from "../address";
import { get16, get32, put16, put32 } from "../bytes";
import { defaultPool } from "../BufferPool";
import { Errno } from "../errno";
import { ICMPV6_EXC_FRAGTIME, ICMPV6_HDR_FIELD, ICMPV6_PARAMPROB, ICMPV6_TIME_EXCEED, ICMPV6_UNK_NEXTHDR, ICMPV6_UNK_OPTION } from "../header/icmp";
import { IPPROTO_ICMPV6 } from "../header/ipv4";
import {
  FRAG6_HLEN,
  IP6_DST,
  IP6_HOP_LIMIT,
  IP6_NEXT_HEADER,
  IP6_PAYLOAD_LENGTH,
  IP6_SRC,
  IP6_VTF,
  IPV6_HLEN,
  NEXTHDR_DEST,
  NEXTHDR_FRAGMENT,
  NEXTHDR_HOP,
  NEXTHDR_NONE,
  NEXTHDR_ROUTING,
} from "../header/ipv6";
import type { TxOffload } from "../link/LinkEndpoint";
import { HEADROOM, type SendOptions } from "./IPv4";
import type { Nic } from "./Nic";
import { Reassembler } from "./Reassembler";
import type { Route } from "./Route";
import { RxPacket } from "./RxPacket";
import type { Stack } from "./Stack";

/**
 * IPv6 (RFC 8200): header validation, extension headers, fragmentation by the
 * source and reassembly. Extension headers are handled as Linux does:
 * hop-by-hop options only right after the fixed header, options walked with
 * the action bits of unknown types honoured, a routing header with segments
 * left rejected (the stack is no router), and and a parameter problem sent for an
 * unknown next header.
 */
export class IPv6 {
  private readonly pkt = new RxPacket();
  private nextId = Math.floor(Math.random() * 0x100000000) >>> 0;
  /** The fragment reassembler. */
  readonly reassembler: Reassembler;

  constructor(private readonly stack: Stack) {
    this.reassembler = new Reassembler(
      (header, context) => {
        this.stack.counters.ip6.ReasmTimeout++;
        this.stack.counters.ip6.ReasmFails++;
        if (header !== null) this.stack.icmp6.sendError(context as Nic, header, 0, header.length, ICMPV6_TIME_EXCEED, ICMPV6_EXC_FRAGTIME, 0);
      },
      (reason) => {
        this.stack.counters.ip6.ReasmFails++;
        this.stack.counters.drop(`ipv6-frag-${reason}`);
      },
      60_000,
    );
  }

  /** Handles an IPv6 packet at `buf[off..off+len)` (borrowed). */
  receive(nic: Nic, buf: Uint8Array, off: number, len: number, rxFlags: number): void {
    const c = this.stack.counters;
    c.ip6.InReceives++;
    if (len < IPV6_HLEN || buf[off] >>> 4 !== 6) {
      c.ip6.InHdrErrors++;
      c.drop(len < IPV6_HLEN ? "ipv6-truncated" : "ipv6-bad-version");
      return;
    }
    const payloadLen = get16(buf, off + IP6_PAYLOAD_LENGTH);
    if (IPV6_HLEN + payloadLen > len || payloadLen === 0 && buf[off + IP6_NEXT_HEADER] === NEXTHDR_HOP) {
      c.ip6.InHdrErrors++;
      c.drop("ipv6-bad-length");
      return;
    }
    if (buf[off + IP6_SRC] === 0xff) {
      c.ip6.InAddrErrors++;
      c.drop("ipv6-multicast-source");
      return;
    }
    const dstOff = off + IP6_DST;
    let multicast = false;
    if (this.stack.findLocalAddress(buf, dstOff, 16) === null) {
      multicast = buf[dstOff] === 0xff && nic.multicast6.has(formatIPv6(buf, dstOff));
      if (!multicast) {
        c.ip6.InAddrErrors++;
        c.drop("ipv6-not-for-us");
        return;
      }
    }
    this.walk(nic, buf, off, IPV6_HLEN + payloadLen, rxFlags, multicast, false);
  }

  // Walks the extension header chain from the fixed header and delivers the
  // upper-layer packet. `reassembled` is set on the rebuilt packet.
  private walk(nic: Nic, buf: Uint8Array, off: number, total: number, rxFlags: number, multicast: boolean, reassembled: boolean): void {
    const c = this.stack.counters;
    let next = buf[off + IP6_NEXT_HEADER];
    let nextOff = off + IP6_NEXT_HEADER;
    let at = off + IPV6_HLEN;
    const end = off + total;
    for (;;) {
      switch (next) {
        case NEXTHDR_HOP:
        case NEXTHDR_DEST: {
          if (next === NEXTHDR_HOP && at !== off + IPV6_HLEN) {
            this.paramProblem(nic, buf, off, total, ICMPV6_UNK_NEXTHDR, nextOff - off, multicast);
            return;
          }
          if (at + 8 > end) return this.bad("ipv6-ext-truncated");
          const hlen = (buf[at + 1] + 1) << 3;
          if (at + hlen > end) return this.bad("ipv6-ext-truncated");
          if (!this.walkOptions(nic, buf, off, total, at + 2, at + hlen, multicast)) return;
          nextOff = at;
          next = buf[at];
          at += hlen;
          continue;
        }
        case NEXTHDR_ROUTING: {
          if (at + 8 > end) return this.bad("ipv6-ext-truncated");
          const hlen = (buf[at + 1] + 1) << 3;
          if (at + hlen > end) return this.bad("ipv6-ext-truncated");
          if (buf[at + 3] !== 0) {
            this.paramProblem(nic, buf, off, total, ICMPV6_HDR_FIELD, at + 2 - off, multicast);
            return;
          }
          nextOff = at;
          next = buf[at];
          at += hlen;
          continue;
        }
        case NEXTHDR_FRAGMENT: {
          if (at + FRAG6_HLEN > end) return this.bad("ipv6-ext-truncated");
          const fo = get16(buf, at + 2);
          const more = (fo & 1) !== 0;
          const offset = fo & 0xfff8;
          if (offset === 0 && !more) {
            // An atomic fragment (RFC 6946): processed as a whole packet.
            nextOff = at;
            next = buf[at];
            at += FRAG6_HLEN;
            continue;
          }
          if (reassembled) return this.bad("ipv6-nested-fragment");
          this.receiveFragment(nic, buf, off, at, end, offset, more, multicast);
          return;
        }
        case NEXTHDR_NONE:
          c.drop("ipv6-no-next-header");
          return;
        default:
          this.deliver(nic, buf, off, next, at, end - at, rxFlags, multicast, nextOff);
          return;
      }
    }
  }

  // Walks the TLV options of a hop-by-hop or destination options header.
  // Returns false if the packet was dropped.
  private walkOptions(nic: Nic, buf: Uint8Array, off: number, total: number, at: number, end: number, multicast: boolean): boolean {
    while (at < end) {
      const type = buf[at];
      if (type === 0) {
        at++;
        continue;
      }
      if (at + 2 > end || at + 2 + buf[at + 1] > end) {
        this.bad("ipv6-option-truncated");
        return false;
      }
      // Known options: PadN (1) and Router Alert (5). For any other, its two
      // high bits select the action (RFC 8200 section 4.2).
      if (type !== 1 && type !== 5) {
        const action = type >>> 6;
        if (action === 1) {
          this.bad("ipv6-unknown-option");
          return false;
        }
        if (action === 2 || (action === 3 && !multicast)) {
          this.paramProblem(nic, buf, off, total, ICMPV6_UNK_OPTION, at - off, false);
          return false;
        }
        if (action === 3) {
          this.bad("ipv6-unknown-option");
          return false;
        }
      }
      at += 2 + buf[at + 1];
    }
    return true;
  }

  private bad(reason: string): void {
    this.stack.counters.ip6.InHdrErrors++;
    this.stack.counters.drop(reason);
  }

  private paramProblem(nic: Nic, buf: Uint8Array, off: number, total: number, code: number, pointer: number, multicast: boolean): void {
    this.stack.counters.ip6.InHdrErrors++;
    this.stack.counters.drop(code === ICMPV6_UNK_NEXTHDR ? "ipv6-unknown-next-header" : "ipv6-parameter-problem");
    if (!multicast) this.stack.icmp6.sendError(nic, buf, off, total, ICMPV6_PARAMPROB, code, pointer);
  }

  private receiveFragment(nic: Nic, buf: Uint8Array, off: number, fragAt: number, end: number, offset: number, more: boolean, multicast: boolean): void {
    const c = this.stack.counters;
    c.ip6.ReasmReqds++;
    const key = `${get32(buf, fragAt + 4)}|${formatIPv6(buf, off + IP6_SRC)}|${formatIPv6(buf, off + IP6_DST)}`;
    const start = fragAt + FRAG6_HLEN;
    const payload = this.reassembler.add(key, offset, buf, start, end - start, more, buf.subarray(off, Math.min(end, start + 8)), nic);
    if (payload === null) return;
    c.ip6.ReasmOKs++;

    // Rebuild one packet: the fixed header with the fragment's next header,
    // then the reassembled payload. Unfragmentable extension headers before
    // the fragment header were already processed and are not kept.
    const whole = new Uint8Array(IPV6_HLEN + payload.length);
    whole.set(buf.subarray(off, off + IPV6_HLEN), 0);
    whole[IP6_NEXT_HEADER] = buf[fragAt];
    put16(whole, IP6_PAYLOAD_LENGTH, payload.length);
    whole.set(payload, IPV6_HLEN);
    this.walk(nic, whole, 0, whole.length, 0, multicast, true);
  }

  private deliver(nic: Nic, buf: Uint8Array, off: number, proto: number, l4Off: number, l4Len: number, rxFlags: number, multicast: boolean, nextOff: number): void {
    const c = this.stack.counters;
    const p = this.pkt;
    p.buf = buf;
    p.nic = nic;
    p.v6 = true;
    p.netOff = off;
    p.srcOff = off + IP6_SRC;
    p.dstOff = off + IP6_DST;
    p.addrLen = 16;
    p.l4Off = l4Off;
    p.l4Len = l4Len;
    p.rxFlags = rxFlags;
    p.ttl = buf[off + IP6_HOP_LIMIT];
    p.multicast = multicast;
    if (proto === IPPROTO_ICMPV6) {
      c.ip6.InDelivers++;
      this.stack.icmp6.receive(p);
      return;
    }
    const t = this.stack.transport(proto);
    if (t === null) {
      c.ip6.InUnknownProtos++;
      this.paramProblem(nic, buf, off, l4Off + l4Len - off, ICMPV6_UNK_NEXTHDR, nextOff - off, multicast);
      return;
    }
    c.ip6.InDelivers++;
    t.receive(p);
  }

  /**
   * Sends the transport packet `buf[l4Off..l4Off+l4Len)` along `route`. Takes
   * ownership of `buf`, which must have HEADROOM bytes free before `l4Off`.
   * Returns 0 or a negative errno.
   */
  send(route: Route, protocol: number, buf: Uint8Array, l4Off: number, l4Len: number, opts: SendOptions, offload: TxOffload | null): number {
    const c = this.stack.counters;
    c.ip6.OutRequests++;
    const gso = offload !== null && offload.gsoType !== 0;
    if (l4Len + IPV6_HLEN > route.nic.mtu && !gso) {
      if (opts.df) {
        defaultPool.release(buf);
        return -Errno.EMSGSIZE;
      }
      return this.sendFragments(route, protocol, buf, l4Off, l4Len, opts);
    }
    const off = l4Off - IPV6_HLEN;
    this.writeHeader(buf, off, l4Len, protocol, route, opts);
    if (offload !== null) {
      offload.csumStart = IPV6_HLEN;
      offload.hdrLen += IPV6_HLEN;
    }
    route.nic.sendIp(true, route.nextHop, buf, off, l4Len + IPV6_HLEN, offload);
    return 0;
  }

  private writeHeader(buf: Uint8Array, off: number, payloadLen: number, next: number, route: Route, opts: SendOptions): void {
    put32(buf, off + IP6_VTF, (6 << 28) | (opts.tos << 20));
    put16(buf, off + IP6_PAYLOAD_LENGTH, payloadLen);
    buf[off + IP6_NEXT_HEADER] = next;
    buf[off + IP6_HOP_LIMIT] = opts.ttl;
    buf.set(route.src, off + IP6_SRC);
    buf.set(route.dst, off + IP6_DST);
  }

  private sendFragments(route: Route, protocol: number, buf: Uint8Array, l4Off: number, l4Len: number, opts: SendOptions): number {
    const c = this.stack.counters;
    const per = (route.nic.mtu - IPV6_HLEN - FRAG6_HLEN) & ~7;
    const id = this.nextId++ >>> 0;
    for (let at = 0; at < l4Len; at += per) {
      const n = Math.min(per, l4Len - at);
      const more = at + n < l4Len;
      const frag = defaultPool.alloc(HEADROOM + n);
      frag.set(buf.subarray(l4Off + at, l4Off + at + n), HEADROOM);
      const fh = HEADROOM - FRAG6_HLEN;
      frag[fh] = protocol;
      frag[fh + 1] = 0;
      put16(frag, fh + 2, at | (more ? 1 : 0));
      put32(frag, fh + 4, id);
      const off = fh - IPV6_HLEN;
      this.writeHeader(frag, off, n + FRAG6_HLEN, NEXTHDR_FRAGMENT, route, opts);
      c.ip6.FragCreates++;
      route.nic.sendIp(true, route.nextHop, frag, off, n + FRAG6_HLEN + IPV6_HLEN, null);
    }
    defaultPool.release(buf);
    return 0;
  }
}
