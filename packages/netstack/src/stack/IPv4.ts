import { get16, put16 } from "../bytes";
import { checksum } from "../checksum";
import { defaultPool } from "../BufferPool";
import { Errno } from "../errno";
import { ETH_HLEN } from "../header/ethernet";
import {
  IP_CHECKSUM,
  IP_DF,
  IP_DST,
  IP_FRAG,
  IP_ID,
  IP_MF,
  IP_OFFMASK,
  IP_PROTOCOL,
  IP_SRC,
  IP_TOS,
  IP_TOTAL_LENGTH,
  IP_TTL,
  IP_VERSION_IHL,
  IPPROTO_ICMP,
  IPV4_MIN_HLEN,
} from "../header/ipv4";
import { ICMP_DEST_UNREACH, ICMP_EXC_FRAGTIME, ICMP_PROT_UNREACH, ICMP_TIME_EXCEEDED } from "../header/icmp";
import type { TxOffload } from "../link/LinkEndpoint";
import type { Nic } from "./Nic";
import { Reassembler } from "./Reassembler";
import type { Route } from "./Route";
import { RxPacket } from "./RxPacket";
import type { Stack } from "./Stack";

/** Bytes reserved before the transport header of every outgoing packet, for IP, Ethernet and device headers. */
export const HEADROOM = 128;

/** Per-packet IP fields chosen by the sender. */
export interface SendOptions {
  /** TTL; default 64. */
  ttl: number;
  /** Type of service byte. */
  tos: number;
  /** Set "don't fragment"; the packet must then fit the MTU (or use GSO). */
  df: boolean;
}

/**
 * IPv4 (RFC 791, RFC 1122): header validation, local delivery, fragmentation
 * of outgoing packets and reassembly of incoming ones. The stack does not
 * forward, so packets for other hosts are dropped and counted.
 */
export class IPv4 {
  private readonly pkt = new RxPacket();
  private nextId = Math.floor(Math.random() * 0x10000);
  /** The fragment reassembler; its limits are public for tests. */
  readonly reassembler: Reassembler;

  constructor(private readonly stack: Stack) {
    this.reassembler = new Reassembler(
      (header, context) => {
        this.stack.counters.ip.ReasmTimeout++;
        this.stack.counters.ip.ReasmFails++;
        if (header !== null) this.stack.icmp4.sendError(context as Nic, header, 0, header.length, ICMP_TIME_EXCEEDED, ICMP_EXC_FRAGTIME);
      },
      (reason) => {
        this.stack.counters.ip.ReasmFails++;
        this.stack.counters.drop(`ipv4-frag-${reason}`);
      },
    );
  }

  /** Handles an IPv4 packet at `buf[off..off+len)` (borrowed). */
  receive(nic: Nic, buf: Uint8Array, off: number, len: number, rxFlags: number): void {
    const c = this.stack.counters;
    c.ip.InReceives++;
    if (len < IPV4_MIN_HLEN) {
      c.ip.InHdrErrors++;
      c.drop("ipv4-truncated");
      return;
    }
    const vihl = buf[off + IP_VERSION_IHL];
    const hlen = (vihl & 0x0f) << 2;
    const total = get16(buf, off + IP_TOTAL_LENGTH);
    if (vihl >>> 4 !== 4 || hlen < IPV4_MIN_HLEN || hlen > len || total < hlen || total > len) {
      c.ip.InHdrErrors++;
      c.drop(vihl >>> 4 !== 4 ? "ipv4-bad-version" : "ipv4-bad-length");
      return;
    }
    if (checksum(buf, off, hlen) !== 0xffff) {
      c.ip.InHdrErrors++;
      c.drop("ipv4-bad-checksum");
      return;
    }
    if (buf[off + IP_SRC] >= 224) {
      c.ip.InAddrErrors++;
      c.drop("ipv4-martian-source");
      return;
    }

    const dstOff = off + IP_DST;
    let multicast = false;
    if (this.stack.findLocalAddress(buf, dstOff, 4) === null) {
      multicast = nic.isBroadcast4(buf, dstOff) || (buf[dstOff] & 0xf0) === 0xe0;
      if (!multicast) {
        c.ip.InAddrErrors++;
        c.drop("ipv4-not-for-us");
        return;
      }
    }

    const frag = get16(buf, off + IP_FRAG);
    if ((frag & (IP_MF | IP_OFFMASK)) !== 0) {
      // The reassembled packet is verified again: its fragments' offload flags do not carry over.
      this.receiveFragment(nic, buf, off, hlen, total, frag, multicast);
      return;
    }
    this.deliver(nic, buf, off, hlen, total, rxFlags, multicast);
  }

  private receiveFragment(nic: Nic, buf: Uint8Array, off: number, hlen: number, total: number, frag: number, multicast: boolean): void {
    const c = this.stack.counters;
    c.ip.ReasmReqds++;
    const key = `${get16(buf, off + IP_ID)}|${buf[off + IP_PROTOCOL]}|${buf.subarray(off + IP_SRC, off + IP_DST + 4).join(".")}`;
    const payload = this.reassembler.add(
      key,
      (frag & IP_OFFMASK) << 3,
      buf,
      off + hlen,
      total - hlen,
      (frag & IP_MF) !== 0,
      buf.subarray(off, Math.min(off + total, off + hlen + 8)),
      nic,
    );
    if (payload === null) return;
    if (payload.length + hlen > 65535) {
      c.ip.ReasmFails++;
      c.drop("ipv4-frag-too-big");
      return;
    }
    c.ip.ReasmOKs++;

    // Rebuild one packet: the header of this fragment, then the whole payload.
    const whole = new Uint8Array(hlen + payload.length);
    whole.set(buf.subarray(off, off + hlen), 0);
    whole.set(payload, hlen);
    put16(whole, IP_TOTAL_LENGTH, whole.length);
    put16(whole, IP_FRAG, 0);
    this.deliver(nic, whole, 0, hlen, whole.length, 0, multicast);
  }

  private deliver(nic: Nic, buf: Uint8Array, off: number, hlen: number, total: number, rxFlags: number, multicast: boolean): void {
    const c = this.stack.counters;
    const p = this.pkt;
    p.buf = buf;
    p.nic = nic;
    p.v6 = false;
    p.netOff = off;
    p.srcOff = off + IP_SRC;
    p.dstOff = off + IP_DST;
    p.addrLen = 4;
    p.l4Off = off + hlen;
    p.l4Len = total - hlen;
    p.rxFlags = rxFlags;
    p.ttl = buf[off + IP_TTL];
    p.multicast = multicast;
    const proto = buf[off + IP_PROTOCOL];
    if (proto === IPPROTO_ICMP) {
      c.ip.InDelivers++;
      this.stack.icmp4.receive(p);
      return;
    }
    const t = this.stack.transport(proto);
    if (t === null) {
      c.ip.InUnknownProtos++;
      c.drop("ipv4-unknown-protocol");
      if (!multicast) this.stack.icmp4.sendError(nic, buf, off, total, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH);
      return;
    }
    c.ip.InDelivers++;
    t.receive(p);
  }

  /**
   * Sends the transport packet `buf[l4Off..l4Off+l4Len)` along `route`,
   * writing the IPv4 header before it. Takes ownership of `buf`, which must
   * have HEADROOM bytes free before `l4Off`. Returns 0 or a negative errno.
   */
  send(route: Route, protocol: number, buf: Uint8Array, l4Off: number, l4Len: number, opts: SendOptions, offload: TxOffload | null): number {
    const c = this.stack.counters;
    const off = l4Off - IPV4_MIN_HLEN;
    const total = l4Len + IPV4_MIN_HLEN;
    c.ip.OutRequests++;
    const gso = offload !== null && offload.gsoType !== 0;
    if (total > route.nic.mtu && !gso) {
      if (opts.df) {
        defaultPool.release(buf);
        c.ip.FragFails++;
        return -Errno.EMSGSIZE;
      }
      return this.sendFragments(route, protocol, buf, l4Off, l4Len, opts);
    }
    this.writeHeader(buf, off, total, protocol, route, opts, opts.df ? IP_DF : 0, this.nextId++ & 0xffff);
    if (offload !== null) {
      offload.csumStart = IPV4_MIN_HLEN;
      offload.hdrLen += IPV4_MIN_HLEN;
    }
    route.nic.sendIp(false, route.nextHop, buf, off, total, offload);
    return 0;
  }

  private writeHeader(buf: Uint8Array, off: number, total: number, protocol: number, route: Route, opts: SendOptions, frag: number, id: number): void {
    buf[off + IP_VERSION_IHL] = 0x45;
    buf[off + IP_TOS] = opts.tos;
    put16(buf, off + IP_TOTAL_LENGTH, total);
    put16(buf, off + IP_ID, id);
    put16(buf, off + IP_FRAG, frag);
    buf[off + IP_TTL] = opts.ttl;
    buf[off + IP_PROTOCOL] = protocol;
    put16(buf, off + IP_CHECKSUM, 0);
    buf.set(route.src, off + IP_SRC);
    buf.set(route.dst, off + IP_DST);
    put16(buf, off + IP_CHECKSUM, ~checksum(buf, off, IPV4_MIN_HLEN) & 0xffff);
  }

  private sendFragments(route: Route, protocol: number, buf: Uint8Array, l4Off: number, l4Len: number, opts: SendOptions): number {
    const c = this.stack.counters;
    const per = (route.nic.mtu - IPV4_MIN_HLEN) & ~7;
    if (per <= 0) {
      defaultPool.release(buf);
      c.ip.FragFails++;
      return -Errno.EMSGSIZE;
    }
    const id = this.nextId++ & 0xffff;
    for (let at = 0; at < l4Len; at += per) {
      const n = Math.min(per, l4Len - at);
      const more = at + n < l4Len;
      const frag = defaultPool.alloc(HEADROOM + n);
      frag.set(buf.subarray(l4Off + at, l4Off + at + n), HEADROOM);
      const off = HEADROOM - IPV4_MIN_HLEN;
      this.writeHeader(frag, off, n + IPV4_MIN_HLEN, protocol, route, opts, (more ? IP_MF : 0) | (at >>> 3), id);
      c.ip.FragCreates++;
      route.nic.sendIp(false, route.nextHop, frag, off, n + IPV4_MIN_HLEN, null);
    }
    c.ip.FragOKs++;
    defaultPool.release(buf);
    return 0;
  }
}

/** Bytes of Ethernet plus IPv4 header before a transport header. */
export const IPV4_LINK_OVERHEAD = ETH_HLEN + IPV4_MIN_HLEN;
