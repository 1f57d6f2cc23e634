import { formatAddress, formatIPv4 } from "../address";
import { bytesEqual, get16, put16 } from "../bytes";
import { defaultPool } from "../BufferPool";
import { ARP_HLEN, ARP_HTYPE, ARP_OPER, ARP_PLEN, ARP_PTYPE, ARP_SHA, ARP_SIZE, ARP_SPA, ARP_THA, ARP_TPA, ARPOP_REPLY, ARPOP_REQUEST } from "../header/arp";
import { BROADCAST_MAC, ETH_DST, ETH_HLEN, ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, ETH_SRC, ETH_TYPE } from "../header/ethernet";
import { CAP_LOOPBACK, type LinkEndpoint, type NetworkDispatcher, type TxOffload } from "../link/LinkEndpoint";
import { NeighborCache, type NeighborCacheOptions } from "./NeighborCache";
import type { Stack } from "./Stack";

/** An address assigned to a NIC. */
export interface NicAddress {
  /** The address as text. */
  readonly address: string;
  /** The address bytes (4 or 16). */
  readonly bytes: Uint8Array;
  /** Prefix length of the subnet. */
  readonly prefixLen: number;
  /** True for IPv6. */
  readonly v6: boolean;
  /** The subnet's directed broadcast address (IPv4 with a prefix under 31), else null. */
  readonly broadcast: Uint8Array | null;
}

/**
 * A network interface: one link endpoint, its addresses and its neighbour
 * tables. It parses Ethernet, replies to ARP requests and hands IP packets to the stack.
 */
export class Nic implements NetworkDispatcher {
  /** Addresses, in the order they were added. */
  readonly addresses: NicAddress[] = [];
  /** The ARP table. */
  readonly arp: NeighborCache;
  /** The NDP neighbour table. */
  readonly ndp: NeighborCache;
  /** Whether the NIC loops frames back (no neighbour resolution). */
  readonly loopback: boolean;
  /** The MTU: the link's, unless lowered. */
  mtu: number;
  /** IPv6 multicast groups joined (solicited-node and all-nodes), as text. */
  readonly multicast6 = new Set<string>(["ff02::1", "ff01::1"]);

  constructor(
    private readonly stack: Stack,
    readonly id: number,
    readonly name: string,
    readonly link: LinkEndpoint,
    neighborOptions: NeighborCacheOptions = {},
  ) {
    this.mtu = link.mtu;
    this.loopback = (link.capabilities & CAP_LOOPBACK) !== 0;
    this.arp = new NeighborCache(
      (target) => this.sendArpRequest(target),
      (mac, buf, off, len, offload) => this.transmit(mac, ETH_P_IP, buf, off, len, offload),
      stack.counters,
      neighborOptions,
      (address) => stack.tcp.neighborUnreachable(this, address),
    );
    this.ndp = new NeighborCache(
      (target, mac) => stack.icmp6.sendNeighborSolicitation(this, target, mac),
      (mac, buf, off, len, offload) => this.transmit(mac, ETH_P_IPV6, buf, off, len, offload),
      stack.counters,
      neighborOptions,
      (address) => stack.tcp.neighborUnreachable(this, address),
    );
  }

  /** The NIC's MAC address. */
  get mac(): Uint8Array {
    return this.link.linkAddress;
  }

  deliverFrame(buf: Uint8Array, off: number, len: number, rxFlags: number): void {
    const c = this.stack.counters;
    c.link.RxFrames++;
    if (len < ETH_HLEN) {
      c.link.RxDropped++;
      c.drop("eth-truncated");
      return;
    }
    const type = get16(buf, off + ETH_TYPE);
    const netOff = off + ETH_HLEN;
    const netLen = len - ETH_HLEN;
    if (!this.loopback && !this.acceptsDestination(buf, off + ETH_DST)) {
      c.drop("eth-other-host");
      return;
    }
    switch (type) {
      case ETH_P_IP:
        this.stack.ipv4.receive(this, buf, netOff, netLen, rxFlags);
        return;
      case ETH_P_IPV6:
        this.stack.ipv6.receive(this, buf, netOff, netLen, rxFlags);
        return;
      case ETH_P_ARP:
        this.receiveArp(buf, netOff, netLen, buf.subarray(off + ETH_SRC, off + ETH_SRC + 6));
        return;
      default:
        c.link.RxDropped++;
        c.drop("eth-unknown-type");
    }
  }

  endBatch(): void {
    this.stack.flush();
  }

  private acceptsDestination(buf: Uint8Array, off: number): boolean {
    if (buf[off] & 1) return true;
    return bytesEqual(buf, off, this.link.linkAddress, 0, 6);
  }

  /** Finds the address of this NIC equal to the bytes at `off`, or null. */
  findAddress(buf: Uint8Array, off: number, len: number): NicAddress | null {
    for (const a of this.addresses) if (a.bytes.length === len && bytesEqual(buf, off, a.bytes, 0, len)) return a;
    return null;
  }

  /** Reports whether the IPv4 address at `off` is a broadcast address of this NIC. */
  isBroadcast4(buf: Uint8Array, off: number): boolean {
    if (buf[off] === 255 && buf[off + 1] === 255 && buf[off + 2] === 255 && buf[off + 3] === 255) return true;
    for (const a of this.addresses) if (a.broadcast !== null && bytesEqual(buf, off, a.broadcast, 0, 4)) return true;
    return false;
  }

  /** Returns the first address of the family, preferring one that shares a subnet with `dst`. */
  sourceFor(v6: boolean, dst: Uint8Array | null): NicAddress | null {
    let fallback: NicAddress | null = null;
    const dstLinkLocal = v6 && dst !== null && dst[0] === 0xfe && (dst[1] & 0xc0) === 0x80;
    for (const a of this.addresses) {
      if (a.v6 !== v6) continue;
      const linkLocal = v6 && a.bytes[0] === 0xfe && (a.bytes[1] & 0xc0) === 0x80;
      if (v6 && linkLocal !== dstLinkLocal) {
        fallback ??= a;
        continue;
      }
      if (dst !== null && sharesPrefix(a, dst)) return a;
      if (fallback === null || (v6 && !linkLocal && fallback.bytes[0] === 0xfe)) fallback = a;
    }
    return fallback;
  }

  /**
   * Sends the IP packet `buf[ipOff..ipOff+len)` to `nextHop` on this link.
   * Takes ownership of `buf`, which has room for the Ethernet header before `ipOff`.
   */
  sendIp(v6: boolean, nextHop: Uint8Array, buf: Uint8Array, ipOff: number, len: number, offload: TxOffload | null): void {
    const type = v6 ? ETH_P_IPV6 : ETH_P_IP;
    if (this.loopback) {
      this.transmit(this.link.linkAddress, type, buf, ipOff, len, offload);
      return;
    }
    if (!v6) {
      if (this.isBroadcast4(nextHop, 0)) {
        this.transmit(BROADCAST_MAC, type, buf, ipOff, len, offload);
        return;
      }
      if ((nextHop[0] & 0xf0) === 0xe0) {
        const mac = new Uint8Array([0x01, 0x00, 0x5e, nextHop[1] & 0x7f, nextHop[2], nextHop[3]]);
        this.transmit(mac, type, buf, ipOff, len, offload);
        return;
      }
      this.arp.send(formatIPv4(nextHop, 0), nextHop, buf, ipOff, len, offload);
      return;
    }
    if (nextHop[0] === 0xff) {
      const mac = new Uint8Array([0x33, 0x33, nextHop[12], nextHop[13], nextHop[14], nextHop[15]]);
      this.transmit(mac, type, buf, ipOff, len, offload);
      return;
    }
    this.ndp.send(formatAddress(nextHop, 0, 16), nextHop, buf, ipOff, len, offload);
  }

  /** Writes the Ethernet header before `off` and hands the frame to the link. */
  transmit(dstMac: Uint8Array, type: number, buf: Uint8Array, off: number, len: number, offload: TxOffload | null): void {
    const frameOff = off - ETH_HLEN;
    buf.set(dstMac, frameOff + ETH_DST);
    buf.set(this.link.linkAddress, frameOff + ETH_SRC);
    put16(buf, frameOff + ETH_TYPE, type);
    if (offload !== null) offload.csumStart += ETH_HLEN;
    if (offload !== null) offload.hdrLen += ETH_HLEN;
    this.stack.counters.link.TxFrames++;
    this.link.writeFrame(buf, frameOff, len + ETH_HLEN, offload);
  }

  private receiveArp(buf: Uint8Array, off: number, len: number, ethSrc: Uint8Array): void {
    const c = this.stack.counters;
    if (len < ARP_SIZE || get16(buf, off + ARP_HTYPE) !== 1 || get16(buf, off + ARP_PTYPE) !== ETH_P_IP || buf[off + ARP_HLEN] !== 6 || buf[off + ARP_PLEN] !== 4) {
      c.drop("arp-malformed");
      return;
    }
    const op = get16(buf, off + ARP_OPER);
    const spa = buf.subarray(off + ARP_SPA, off + ARP_SPA + 4);
    const sha = buf.subarray(off + ARP_SHA, off + ARP_SHA + 6);
    if (sha[0] & 1 || (spa[0] === 0 && op !== ARPOP_REQUEST)) {
      c.drop("arp-bad-sender");
      return;
    }
    const target = this.findAddress(buf, off + ARP_TPA, 4);
    const spaKey = formatIPv4(spa, 0);
    if (op === ARPOP_REQUEST) {
      c.neigh.ArpRequestsIn++;
      if (target === null) return;
      if (spa[0] !== 0) this.arp.update(spaKey, spa, sha, true);
      this.sendArp(ARPOP_REPLY, target.bytes, sha, spa, ethSrc);
    } else if (op === ARPOP_REPLY) {
      c.neigh.ArpRepliesIn++;
      this.arp.update(spaKey, spa, sha, target !== null);
    } else {
      c.drop("arp-unknown-op");
    }
  }

  private sendArpRequest(target: Uint8Array): void {
    const src = this.sourceFor(false, target);
    if (src === null) return;
    this.sendArp(ARPOP_REQUEST, src.bytes, new Uint8Array(6), target, BROADCAST_MAC);
  }

  private sendArp(op: number, spa: Uint8Array, tha: Uint8Array, tpa: Uint8Array, ethDst: Uint8Array): void {
    const buf = defaultPool.alloc(64 + ARP_SIZE);
    const off = 32;
    put16(buf, off + ARP_HTYPE, 1);
    put16(buf, off + ARP_PTYPE, ETH_P_IP);
    buf[off + ARP_HLEN] = 6;
    buf[off + ARP_PLEN] = 4;
    put16(buf, off + ARP_OPER, op);
    buf.set(this.link.linkAddress, off + ARP_SHA);
    buf.set(spa, off + ARP_SPA);
    buf.set(tha, off + ARP_THA);
    buf.set(tpa, off + ARP_TPA);
    if (op === ARPOP_REQUEST) this.stack.counters.neigh.ArpRequestsOut++;
    else this.stack.counters.neigh.ArpRepliesOut++;
    this.transmit(ethDst, ETH_P_ARP, buf, off, ARP_SIZE, null);
  }
}

function sharesPrefix(a: NicAddress, dst: Uint8Array): boolean {
  let bits = a.prefixLen;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((a.bytes[i] & mask) !== (dst[i] & mask)) return false;
  }
  return true;
}
