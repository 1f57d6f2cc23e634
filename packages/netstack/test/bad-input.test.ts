import { afterEach, describe, expect, it } from "vitest";
import { AF_INET, Errno, SOCK_STREAM, type Stack, type TcpSocket, TcpState, UdpChannel } from "../src/index";
import { fixIpv4Checksum, ipv4Frame, tcpSegment, udpDatagram } from "./frames";
import { type StackPair, stackPair, waitFor } from "./pair";

let pair: StackPair | null = null;
afterEach(() => {
  pair?.close();
  pair = null;
});

const A = [10, 0, 0, 1];
const B = [10, 0, 0, 2];

function inject(stack: Stack, frame: Uint8Array): void {
  const nic = stack.nic("eth0")!;
  nic.deliverFrame(frame, 0, frame.length, 0);
  nic.endBatch();
}

function macOf(stack: Stack): Uint8Array {
  return stack.nic("eth0")!.mac;
}

describe("bad input is dropped and counted, never thrown", () => {
  it("drops truncated, oversized and malformed IPv4 frames", () => {
    pair = stackPair();
    const b = pair.b;
    const good = ipv4Frame({ dstMac: macOf(b), src: A, dst: B, protocol: 17, payload: udpDatagram(A, B, 1, 9, new Uint8Array(10)) });

    inject(b, good.subarray(0, 10));
    expect(b.counters.drops()["eth-truncated"]).toBe(1);

    inject(b, good.subarray(0, 14 + 12));
    expect(b.counters.drops()["ipv4-truncated"]).toBe(1);

    const badVersion = good.slice();
    badVersion[14] = 0x65;
    fixIpv4Checksum(badVersion);
    inject(b, badVersion);
    expect(b.counters.drops()["ipv4-bad-version"]).toBe(1);

    const longTotal = good.slice();
    longTotal[16] = 0xff;
    fixIpv4Checksum(longTotal);
    inject(b, longTotal);
    const bigIhl = good.slice();
    bigIhl[14] = 0x4f;
    inject(b, bigIhl);
    expect(b.counters.drops()["ipv4-bad-length"]).toBe(2);

    const badSum = good.slice();
    badSum[24] ^= 0xff;
    inject(b, badSum);
    expect(b.counters.drops()["ipv4-bad-checksum"]).toBe(1);

    // An oversized frame: 70,000 bytes whose IP header claims less. The
    // stack uses the IP length and ignores the rest.
    const huge = new Uint8Array(70_000);
    huge.set(good);
    inject(b, huge);
    expect(b.counters.udp.NoPorts).toBe(1);

    const unknownType = good.slice();
    unknownType[12] = 0x12;
    inject(b, unknownType);
    expect(b.counters.drops()["eth-unknown-type"]).toBe(1);

    expect(b.counters.ip.InHdrErrors).toBe(5);
  });

  it("drops UDP, TCP and ICMP with bad checksums or lengths", () => {
    pair = stackPair();
    const b = pair.b;
    const udp = udpDatagram(A, B, 1, 9, new Uint8Array(20));
    udp[10] ^= 1;
    inject(b, ipv4Frame({ dstMac: macOf(b), src: A, dst: B, protocol: 17, payload: udp }));
    expect(b.counters.udp.InCsumErrors).toBe(1);

    const shortUdp = udpDatagram(A, B, 1, 9, new Uint8Array(20));
    shortUdp[5] = 4;
    inject(b, ipv4Frame({ dstMac: macOf(b), src: A, dst: B, protocol: 17, payload: shortUdp }));
    expect(b.counters.drops()["udp-bad-length"]).toBe(1);

    const tcp = tcpSegment(A, B, 1000, 80, 1, 0, 0x02, []);
    tcp[4] ^= 1;
    inject(b, ipv4Frame({ dstMac: macOf(b), src: A, dst: B, protocol: 6, payload: tcp }));
    expect(b.counters.tcp.InCsumErrors).toBe(1);

    const tcpOffset = tcpSegment(A, B, 1000, 80, 1, 0, 0x02, []);
    tcpOffset[12] = 0xf0;
    inject(b, ipv4Frame({ dstMac: macOf(b), src: A, dst: B, protocol: 6, payload: tcpOffset }));
    expect(b.counters.drops()["tcp-bad-header-length"]).toBe(1);

    const icmp = new Uint8Array(16);
    icmp[0] = 8;
    inject(b, ipv4Frame({ dstMac: macOf(b), src: A, dst: B, protocol: 1, payload: icmp }));
    expect(b.counters.icmp.InCsumErrors).toBe(1);

    inject(b, ipv4Frame({ dstMac: macOf(b), src: A, dst: B, protocol: 1, payload: new Uint8Array(4) }));
    expect(b.counters.drops()["icmp-truncated"]).toBe(1);

    inject(b, ipv4Frame({ dstMac: macOf(b), src: A, dst: B, protocol: 99, payload: new Uint8Array(4) }));
    expect(b.counters.ip.InUnknownProtos).toBe(1);
    expect(b.counters.icmp.OutDestUnreachs).toBe(1);
  });

  it("drops a datagram whose fragments overlap", async () => {
    pair = stackPair();
    const b = pair.b;
    const rx = UdpChannel.bind(b, "0.0.0.0", 9);
    const whole = udpDatagram(A, B, 1, 9, new Uint8Array(40).fill(7));
    const f1 = ipv4Frame({ dstMac: macOf(b), src: A, dst: B, protocol: 17, id: 77, frag: 0x2000, payload: whole.subarray(0, 24) });
    const f2 = ipv4Frame({ dstMac: macOf(b), src: A, dst: B, protocol: 17, id: 77, frag: 2, payload: whole.subarray(16) });
    inject(b, f1);
    inject(b, f2);
    expect(b.counters.drops()["ipv4-frag-overlap"]).toBe(1);
    expect(b.ipv4.reassembler.pending).toBe(0);

    // A fragment that would end past 65,535 bytes is refused too.
    inject(b, ipv4Frame({ dstMac: macOf(b), src: A, dst: B, protocol: 17, id: 78, frag: 0x1fff, payload: new Uint8Array(16) }));
    expect(b.counters.drops()["ipv4-frag-too-big"]).toBe(1);

    // Non-overlapping fragments still work.
    inject(b, f1);
    inject(b, ipv4Frame({ dstMac: macOf(b), src: A, dst: B, protocol: 17, id: 77, frag: 3, payload: whole.subarray(24) }));
    const m = await rx.receive();
    expect(m.data.length).toBe(40);
    rx.close();
  });

  it("drops segments with hostile TCP option lists and keeps the connection", async () => {
    pair = stackPair();
    const b = pair.b;
    const l = b.socket(AF_INET, SOCK_STREAM) as TcpSocket;
    l.bind({ address: "0.0.0.0", port: 80 });
    l.listen(8);
    const c = pair.a.socket(AF_INET, SOCK_STREAM) as TcpSocket;
    expect(c.connect({ address: "10.0.0.2", port: 80 })).toBe(-Errno.EINPROGRESS);
    await waitFor(() => c.state === TcpState.ESTABLISHED);
    const port = (c.getsockname() as { port: number }).port;

    const hostile: number[][] = [
      [2, 0, 0, 0], // option length 0
      [2, 40, 5, 180], // length past the header
      [3], // truncated kind
      [5, 3, 0, 0], // SACK with a bad length
      [8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 5, 2], // timestamp, then SACK of length 2
      [1, 1, 1, 255, 1, 0], // unknown kind 255 with length 1
    ];
    for (const opts of hostile) {
      inject(b, ipv4Frame({ dstMac: macOf(b), src: A, dst: B, protocol: 6, payload: tcpSegment(A, B, port, 80, 12345, 0, 0x10, opts) }));
      inject(b, ipv4Frame({ dstMac: macOf(b), src: A, dst: B, protocol: 6, payload: tcpSegment(A, B, 40000, 80, 1, 0, 0x02, opts) }));
    }
    expect(b.counters.tcpExt.TCPBadOptions).toBeGreaterThanOrEqual(10);
    expect(b.counters.drops()["tcp-bad-options"]).toBeGreaterThanOrEqual(8);
    // A SYN with a huge window scale is clamped to 14, and its SYN-ACK is sent.
    inject(b, ipv4Frame({ dstMac: macOf(b), src: A, dst: B, protocol: 6, payload: tcpSegment(A, B, 40001, 80, 1, 0, 0x02, [3, 3, 200, 1, 2, 4, 0, 0]) }));

    c.sendto(new TextEncoder().encode("still fine"), 0, null);
    const s = await (async () => {
      let got: TcpSocket | number = -1;
      await waitFor(() => typeof (got = l.accept() as TcpSocket | number) !== "number");
      return got as unknown as TcpSocket;
    })();
    await waitFor(() => s.readableBytes === 10);
    expect(c.state).toBe(TcpState.ESTABLISHED);
  });

  it("answers a malformed IPv6 extension header chain as Linux does", () => {
    pair = stackPair();
    const b = pair.b;
    const mac = macOf(b);
    const frame = (next: number, payload: number[]) => {
      const f = new Uint8Array(14 + 40 + payload.length);
      f.set(mac, 0);
      f.set([0x33, 0, 0, 0, 0, 1], 6);
      f[12] = 0x86;
      f[13] = 0xdd;
      f[14] = 0x60;
      f[18] = payload.length >>> 8;
      f[19] = payload.length & 0xff;
      f[20] = next;
      f[21] = 64;
      f.set([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 22);
      f.set([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], 38);
      f.set(payload, 54);
      inject(b, f);
    };
    frame(60, [17, 4, 0, 0]); // destination options longer than the packet
    expect(b.counters.drops()["ipv6-ext-truncated"]).toBe(1);
    frame(60, [0, 0, 1, 4, 0, 0, 0, 0]); // then hop-by-hop after another header
    expect(b.counters.drops()["ipv6-unknown-next-header"]).toBe(1);
    frame(60, [59, 0, 0x80, 4, 0, 0, 0, 0]); // unknown option with action "discard and send an error"
    expect(b.counters.drops()["ipv6-parameter-problem"]).toBe(1);
    frame(43, [59, 0, 0, 1, 0, 0, 0, 0]); // routing header with segments left
    expect(b.counters.drops()["ipv6-parameter-problem"]).toBe(2);
    frame(50, [0, 0, 0, 0]); // ESP is not supported
    expect(b.counters.ip6.InUnknownProtos).toBe(1);
    frame(60, [59, 0, 1, 4, 0, 0, 0, 0]); // PadN then no next header: fine, nothing to deliver
    expect(b.counters.drops()["ipv6-no-next-header"]).toBe(1);
    expect(b.counters.icmp6.OutParmProblems).toBe(4);
  });
});

describe("RFC 5961 and PAWS checks", () => {
  it("applies the RFC 5961 and PAWS checks", async () => {
    pair = stackPair();
    const b = pair.b;
    const l = b.socket(AF_INET, SOCK_STREAM) as TcpSocket;
    l.bind({ address: "0.0.0.0", port: 80 });
    l.listen(8);

    // Record the last segment from a, to learn the sequence numbers in use.
    const nic = b.nic("eth0")!;
    const deliver = nic.deliverFrame.bind(nic);
    let last: Uint8Array | null = null;
    nic.deliverFrame = (buf, off, len, flags) => {
      if (buf[off + 12] === 0x08 && buf[off + 13] === 0x00 && buf[off + 23] === 6) last = buf.slice(off, off + len);
      deliver(buf, off, len, flags);
    };
    const c = pair.a.socket(AF_INET, SOCK_STREAM) as TcpSocket;
    c.connect({ address: "10.0.0.2", port: 80 });
    await waitFor(() => c.state === TcpState.ESTABLISHED);
    let s: TcpSocket | number = -1;
    await waitFor(() => typeof (s = l.accept() as TcpSocket | number) !== "number");
    const server = s as unknown as TcpSocket;
    c.sendto(new Uint8Array(10), 0, null);
    await waitFor(() => server.readableBytes === 10);
    await new Promise((r) => setTimeout(r, 60));

    const seg = last as unknown as Uint8Array;
    const view = new DataView(seg.buffer);
    const tcpOff = 34;
    const hlen = (seg[tcpOff + 12] >>> 4) * 4;
    const port = view.getUint16(tcpOff);
    const seq = view.getUint32(tcpOff + 4) + (seg.length - tcpOff - hlen);
    const ack = view.getUint32(tcpOff + 8);
    const tsVal = view.getUint32(tcpOff + 24);
    const send = (sq: number, flags: number, options: number[], payload?: Uint8Array) =>
      inject(b, ipv4Frame({ dstMac: macOf(b), src: A, dst: B, protocol: 6, payload: tcpSegment(A, B, port, 80, sq >>> 0, ack, flags, options, payload) }));

    const challenges = b.counters.tcpExt.TCPChallengeACK;
    send(seq + 100, 0x04, []);
    expect(b.counters.tcpExt.TCPChallengeACK).toBe(challenges + 1);
    send(seq + 5, 0x02, []);
    expect(b.counters.tcpExt.TCPChallengeACK).toBe(challenges + 2);
    expect(server.state).toBe(TcpState.ESTABLISHED);

    const ts = (v: number) => [1, 1, 8, 10, v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff, 0, 0, 0, 0];
    send(seq, 0x18, ts(tsVal - 100_000), new Uint8Array(5));
    expect(b.counters.tcpExt.PAWSEstab).toBe(1);
    expect(server.readableBytes).toBe(10);

    send(seq, 0x04, []);
    expect(server.state).toBe(TcpState.CLOSED);
    const buf = new Uint8Array(100);
    expect(server.recvfrom(buf, 0, null)).toBe(10);
    expect(server.recvfrom(buf, 0, null)).toBe(-Errno.ECONNRESET);
  });
});
