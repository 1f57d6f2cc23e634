import { checksum, pseudoHeaderChecksum } from "../src/index";

/** Builds test frames with correct checksums, so that each test can break exactly one thing. */

function put16(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 8;
  b[off + 1] = v;
}

function put32(b: Uint8Array, off: number, v: number): void {
  put16(b, off, v >>> 16);
  put16(b, off + 2, v & 0xffff);
}

/** Fields of an IPv4 test packet. */
export interface Ipv4Spec {
  dstMac: Uint8Array;
  src: number[];
  dst: number[];
  protocol: number;
  payload: Uint8Array;
  id?: number;
  frag?: number;
  ttl?: number;
}

/** An Ethernet frame holding an IPv4 packet with a correct header checksum. */
export function ipv4Frame(spec: Ipv4Spec): Uint8Array {
  const f = new Uint8Array(14 + 20 + spec.payload.length);
  f.set(spec.dstMac, 0);
  f.set([2, 0, 0, 0, 0, 9], 6);
  put16(f, 12, 0x0800);
  f[14] = 0x45;
  put16(f, 16, 20 + spec.payload.length);
  put16(f, 18, spec.id ?? 1);
  put16(f, 20, spec.frag ?? 0);
  f[22] = spec.ttl ?? 64;
  f[23] = spec.protocol;
  f.set(spec.src, 26);
  f.set(spec.dst, 30);
  put16(f, 24, ~checksum(f, 14, 20) & 0xffff);
  f.set(spec.payload, 34);
  return f;
}

/** Recomputes the IPv4 header checksum of a frame. */
export function fixIpv4Checksum(f: Uint8Array): void {
  const hlen = (f[14] & 0xf) * 4;
  if (f.length < 14 + hlen) return;
  put16(f, 24, 0);
  put16(f, 24, ~checksum(f, 14, hlen) & 0xffff);
}

/** Recomputes the TCP or UDP checksum of an IPv4 frame whose lengths are consistent. */
export function fixL4Checksum(f: Uint8Array): void {
  const hlen = (f[14] & 0xf) * 4;
  const total = (f[16] << 8) | f[17];
  const l4 = 14 + hlen;
  const len = total - hlen;
  if (len < 8 || 14 + total > f.length) return;
  const at = f[23] === 6 ? 16 : f[23] === 17 ? 6 : f[23] === 1 ? 2 : -1;
  if (at < 0 || at + 2 > len) return;
  put16(f, l4 + at, 0);
  const pseudo = f[23] === 1 ? 0 : pseudoHeaderChecksum(f, 26, f, 30, 4, f[23], len);
  put16(f, l4 + at, ~checksum(f, l4, len, pseudo) & 0xffff);
}

/** A TCP segment (header, options, payload) with its checksum for the given addresses. */
export function tcpSegment(src: number[], dst: number[], sport: number, dport: number, seq: number, ack: number, flags: number, options: number[], payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const olen = (options.length + 3) & ~3;
  const hlen = 20 + olen;
  const s = new Uint8Array(hlen + payload.length);
  put16(s, 0, sport);
  put16(s, 2, dport);
  put32(s, 4, seq);
  put32(s, 8, ack);
  s[12] = (hlen >>> 2) << 4;
  s[13] = flags;
  put16(s, 14, 65535);
  s.set(options, 20);
  s.set(payload, hlen);
  const pseudo = pseudoHeaderChecksum(Uint8Array.from(src), 0, Uint8Array.from(dst), 0, 4, 6, s.length);
  put16(s, 16, ~checksum(s, 0, s.length, pseudo) & 0xffff);
  return s;
}

/** A UDP datagram with its checksum. */
export function udpDatagram(src: number[], dst: number[], sport: number, dport: number, payload: Uint8Array): Uint8Array {
  const d = new Uint8Array(8 + payload.length);
  put16(d, 0, sport);
  put16(d, 2, dport);
  put16(d, 4, d.length);
  d.set(payload, 8);
  const pseudo = pseudoHeaderChecksum(Uint8Array.from(src), 0, Uint8Array.from(dst), 0, 4, 17, d.length);
  put16(d, 6, ~checksum(d, 0, d.length, pseudo) & 0xffff || 0xffff);
  return d;
}
