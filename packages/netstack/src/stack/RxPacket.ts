import { formatAddress } from "../address";
import type { Nic } from "./Nic";

/**
 * A received network packet on its way up the stack. The stack reuses one
 * object per protocol layer, so a handler must copy what it keeps: the object
 * and `buf` are only valid during the call.
 */
export class RxPacket {
  /** The frame buffer (borrowed). */
  buf: Uint8Array = new Uint8Array(0);
  /** The NIC it arrived on. */
  nic!: Nic;
  /** True for IPv6, false for IPv4. */
  v6 = false;
  /** Offset of the IP header. */
  netOff = 0;
  /** Offset of the source address. */
  srcOff = 0;
  /** Offset of the destination address. */
  dstOff = 0;
  /** Address length: 4 or 16. */
  addrLen = 4;
  /** Offset of the transport header. */
  l4Off = 0;
  /** Length of the transport header plus payload. */
  l4Len = 0;
  /** RX_* flags from the link. */
  rxFlags = 0;
  /** TTL or hop limit. */
  ttl = 0;
  /** Whether the destination is a broadcast or multicast address. */
  multicast = false;

  /** Returns the source address as text. */
  srcString(): string {
    return formatAddress(this.buf, this.srcOff, this.addrLen);
  }

  /** Returns the destination address as text. */
  dstString(): string {
    return formatAddress(this.buf, this.dstOff, this.addrLen);
  }

  /** Returns a copy of the source address bytes. */
  srcBytes(): Uint8Array {
    return this.buf.slice(this.srcOff, this.srcOff + this.addrLen);
  }

  /** Returns a copy of the destination address bytes. */
  dstBytes(): Uint8Array {
    return this.buf.slice(this.dstOff, this.dstOff + this.addrLen);
  }
}

/** An ICMP error reported to a transport protocol, about a packet this stack sent. */
export interface IcmpErrorInfo {
  /** True if the error came over ICMPv6. */
  v6: boolean;
  /** Buffer holding the quoted original packet (borrowed). */
  buf: Uint8Array;
  /** Offset of the quoted original source address. */
  srcOff: number;
  /** Offset of the quoted original destination address. */
  dstOff: number;
  /** Offset of the quoted transport header. */
  l4Off: number;
  /** Bytes of the quoted transport header available. */
  l4Len: number;
  /** The positive errno the error maps to (ECONNREFUSED for a port unreachable). */
  errno: number;
  /** Whether the error is hard (aborts a connection being opened) in Linux's sense. */
  hard: boolean;
  /** For "fragmentation needed" and "packet too big": the next-hop MTU, else 0. */
  mtu: number;
}

/** The part of a transport protocol the network layer calls. */
export interface TransportProtocol {
  /** Handles a packet for this protocol; never throws. */
  receive(pkt: RxPacket): void;
  /** Handles an ICMP error quoting a packet of this protocol. */
  receiveError(info: IcmpErrorInfo): void;
}
