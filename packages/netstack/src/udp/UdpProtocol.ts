import { get16, put16 } from "../bytes";
import { checksum, pseudoHeaderChecksum } from "../checksum";
import { ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, ICMPV6_DEST_UNREACH, ICMPV6_PORT_UNREACH } from "../header/icmp";
import { IPPROTO_UDP } from "../header/ipv4";
import { UDP_CHECKSUM, UDP_DST_PORT, UDP_HLEN, UDP_LENGTH, UDP_SRC_PORT } from "../header/udp";
import { RX_CHECKSUM_VALID } from "../link/LinkEndpoint";
import { PortTable } from "../stack/PortTable";
import type { IcmpErrorInfo, RxPacket, TransportProtocol } from "../stack/RxPacket";
import type { Stack } from "../stack/Stack";
import type { UdpSocket } from "./UdpSocket";

/**
 * UDP (RFC 768): validates datagrams, finds the sockets they are for, and
 * sends ICMP port unreachable for datagrams to closed ports.
 */
export class UdpProtocol implements TransportProtocol {
  /** Ports in use. */
  readonly ports = new PortTable();
  /** Bound sockets by local port. */
  private readonly byPort = new Map<number, UdpSocket[]>();

  constructor(readonly stack: Stack) {}

  /** Registers a bound socket. */
  register(sock: UdpSocket, port: number): void {
    const list = this.byPort.get(port);
    if (list === undefined) this.byPort.set(port, [sock]);
    else list.push(sock);
  }

  /** Removes a socket registered on `port`. */
  unregister(sock: UdpSocket, port: number): void {
    const list = this.byPort.get(port);
    if (list === undefined) return;
    const i = list.indexOf(sock);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byPort.delete(port);
  }

  /** Sockets bound to `port`. */
  socketsOn(port: number): readonly UdpSocket[] {
    return this.byPort.get(port) ?? [];
  }

  receive(p: RxPacket): void {
    const c = this.stack.counters;
    const { buf, l4Off: off } = p;
    if (p.l4Len < UDP_HLEN) {
      c.udp.InErrors++;
      c.drop("udp-truncated");
      return;
    }
    const len = get16(buf, off + UDP_LENGTH);
    if (len < UDP_HLEN || len > p.l4Len) {
      c.udp.InErrors++;
      c.drop("udp-bad-length");
      return;
    }
    const sum = get16(buf, off + UDP_CHECKSUM);
    if (sum === 0 && p.v6) {
      c.udp.InErrors++;
      c.drop("udp-zero-checksum-ipv6");
      return;
    }
    if (sum !== 0 && (p.rxFlags & RX_CHECKSUM_VALID) === 0) {
      const pseudo = pseudoHeaderChecksum(buf, p.srcOff, buf, p.dstOff, p.addrLen, IPPROTO_UDP, len);
      if (checksum(buf, off, len, pseudo) !== 0xffff) {
        c.udp.InErrors++;
        c.udp.InCsumErrors++;
        c.drop("udp-bad-checksum");
        return;
      }
    }

    const dport = get16(buf, off + UDP_DST_PORT);
    const sport = get16(buf, off + UDP_SRC_PORT);
    const candidates = this.byPort.get(dport);
    let matched = false;
    if (candidates !== undefined) {
      if (p.multicast) {
        for (const s of candidates) {
          if (!s.matches(p, sport)) continue;
          matched = true;
          s.enqueue(p, off + UDP_HLEN, len - UDP_HLEN, sport);
        }
      } else {
        let best: UdpSocket | null = null;
        for (const s of candidates) if (s.matches(p, sport) && (best === null || s.specificity() > best.specificity())) best = s;
        if (best !== null) {
          matched = true;
          best.enqueue(p, off + UDP_HLEN, len - UDP_HLEN, sport);
        }
      }
    }
    if (matched) {
      c.udp.InDatagrams++;
      return;
    }
    c.udp.NoPorts++;
    c.drop("udp-no-port");
    if (p.multicast) return;
    const ipLen = p.l4Off + p.l4Len - p.netOff;
    if (p.v6) this.stack.icmp6.sendError(p.nic, buf, p.netOff, ipLen, ICMPV6_DEST_UNREACH, ICMPV6_PORT_UNREACH, 0);
    else this.stack.icmp4.sendError(p.nic, buf, p.netOff, ipLen, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH);
  }

  receiveError(info: IcmpErrorInfo): void {
    if (info.l4Len < 4) return;
    const sport = get16(info.buf, info.l4Off + UDP_SRC_PORT);
    const dport = get16(info.buf, info.l4Off + UDP_DST_PORT);
    const alen = info.v6 ? 16 : 4;
    for (const s of this.socketsOn(sport)) {
      if (s.isConnectedTo(info.buf, info.dstOff, alen, dport)) s.setError(info.errno);
    }
  }

  /** Writes the UDP header and checksum for a payload at `off + UDP_HLEN`. */
  writeHeader(buf: Uint8Array, off: number, sport: number, dport: number, payloadLen: number, src: Uint8Array, dst: Uint8Array): void {
    const len = UDP_HLEN + payloadLen;
    put16(buf, off + UDP_SRC_PORT, sport);
    put16(buf, off + UDP_DST_PORT, dport);
    put16(buf, off + UDP_LENGTH, len);
    put16(buf, off + UDP_CHECKSUM, 0);
    const pseudo = pseudoHeaderChecksum(src, 0, dst, 0, src.length, IPPROTO_UDP, len);
    let sum = ~checksum(buf, off, len, pseudo) & 0xffff;
    if (sum === 0) sum = 0xffff;
    put16(buf, off + UDP_CHECKSUM, sum);
  }

  /** Closes every UDP socket. */
  closeAll(): void {
    for (const list of [...this.byPort.values()]) for (const s of [...list]) s.close();
  }
}
