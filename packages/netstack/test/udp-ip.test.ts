import { afterEach, describe, expect, it } from "vitest";
import { AF_INET, AF_INET6, Errno, IPPROTO_ICMP, IPPROTO_ICMPV6, type PingSocket, SO_BROADCAST, SOCK_DGRAM, SOL_SOCKET, Stack, type TcpSocket, TcpState, UdpChannel, type UdpSocket } from "../src/index";
import { patternBytes, type StackPair, stackPair, waitFor } from "./pair";

let pair: StackPair | null = null;
afterEach(() => {
  pair?.close();
  pair = null;
});

describe("UDP", () => {
  it("sends datagrams both ways with sendto and recvfrom", async () => {
    pair = stackPair();
    const x = UdpChannel.bind(pair.a, "0.0.0.0", 1000);
    const y = UdpChannel.bind(pair.b, "0.0.0.0", 2000);
    x.send(new TextEncoder().encode("to b"), { address: "10.0.0.2", port: 2000 });
    const m1 = await y.receive();
    expect(new TextDecoder().decode(m1.data)).toBe("to b");
    expect(m1.from).toEqual({ address: "10.0.0.1", port: 1000 });
    y.send(new TextEncoder().encode("to a"), m1.from);
    const m2 = await x.receive();
    expect(new TextDecoder().decode(m2.data)).toBe("to a");
    x.close();
    y.close();
  });

  it("reports ECONNREFUSED on a connected socket after a port unreachable", async () => {
    pair = stackPair();
    const s = pair.a.socket(AF_INET, SOCK_DGRAM) as UdpSocket;
    expect(s.connect({ address: "10.0.0.2", port: 9999 })).toBe(0);
    expect(s.sendto(new Uint8Array(10), 0, null)).toBe(10);
    await waitFor(() => pair!.a.counters.icmp.InDestUnreachs === 1);
    expect(s.recvfrom(new Uint8Array(10), 0, null)).toBe(-Errno.ECONNREFUSED);
    expect(s.recvfrom(new Uint8Array(10), 0, null)).toBe(-Errno.EAGAIN);
    expect(pair.b.counters.udp.NoPorts).toBe(1);
  });

  it("needs SO_BROADCAST to send to a broadcast address, and delivers broadcasts", async () => {
    pair = stackPair();
    const rx = UdpChannel.bind(pair.b, "0.0.0.0", 67);
    const tx = pair.a.socket(AF_INET, SOCK_DGRAM) as UdpSocket;
    expect(tx.sendto(new Uint8Array(4), 0, { address: "255.255.255.255", port: 67 })).toBe(-Errno.EACCES);
    tx.setsockopt(SOL_SOCKET, SO_BROADCAST, 1);
    expect(tx.sendto(new TextEncoder().encode("all"), 0, { address: "10.0.0.255", port: 67 })).toBe(3);
    expect(tx.sendto(new TextEncoder().encode("ALL"), 0, { address: "255.255.255.255", port: 67 })).toBe(3);
    expect(new TextDecoder().decode((await rx.receive()).data)).toBe("all");
    expect(new TextDecoder().decode((await rx.receive()).data)).toBe("ALL");
    rx.close();
  });

  it("carries UDP over IPv6", async () => {
    pair = stackPair();
    const x = UdpChannel.bind(pair.a, "::", 1000);
    const y = UdpChannel.bind(pair.b, "fd00::2", 2000);
    x.send(new TextEncoder().encode("six"), { address: "fd00::2", port: 2000 });
    const m = await y.receive();
    expect(new TextDecoder().decode(m.data)).toBe("six");
    expect(m.from.address).toBe("fd00::1");
    x.close();
    y.close();
  });

  it("reports EADDRINUSE for a second bind without SO_REUSEADDR", () => {
    pair = stackPair();
    const a = pair.a.socket(AF_INET, SOCK_DGRAM) as UdpSocket;
    const b = pair.a.socket(AF_INET, SOCK_DGRAM) as UdpSocket;
    expect(a.bind({ address: "0.0.0.0", port: 53 })).toBe(0);
    expect(b.bind({ address: "10.0.0.1", port: 53 })).toBe(-Errno.EADDRINUSE);
    expect(b.bind({ address: "10.9.9.9", port: 54 })).toBe(-Errno.EADDRNOTAVAIL);
  });
});

describe("IP fragmentation", () => {
  it("fragments a large IPv4 datagram and reassembles it", async () => {
    pair = stackPair({ mtu: 1500, reorder: 0.3, seed: 5 });
    const y = UdpChannel.bind(pair.b, "0.0.0.0", 2000);
    const x = UdpChannel.bind(pair.a, "0.0.0.0", 0);
    const data = patternBytes(60_000, 9);
    x.send(data, { address: "10.0.0.2", port: 2000 });
    const m = await y.receive();
    expect(Buffer.from(m.data).equals(Buffer.from(data))).toBe(true);
    expect(pair.a.counters.ip.FragCreates).toBe(41);
    expect(pair.b.counters.ip.ReasmOKs).toBe(1);
    y.close();
    x.close();
  });

  it("fragments a large IPv6 datagram and reassembles it", async () => {
    pair = stackPair({ mtu: 1280 });
    const y = UdpChannel.bind(pair.b, "::", 2000);
    const x = UdpChannel.bind(pair.a, "::", 0);
    const data = patternBytes(30_000, 11);
    x.send(data, { address: "fd00::2", port: 2000 });
    const m = await y.receive();
    expect(Buffer.from(m.data).equals(Buffer.from(data))).toBe(true);
    expect(pair.a.counters.ip6.FragCreates).toBeGreaterThan(20);
    expect(pair.b.counters.ip6.ReasmOKs).toBe(1);
    y.close();
    x.close();
  });

  it("expires an incomplete datagram", async () => {
    pair = stackPair({ mtu: 1500 });
    pair.b.ipv4.reassembler.clear();
    const y = UdpChannel.bind(pair.b, "0.0.0.0", 2000);
    // Drop the last fragment on its way to b, so the datagram stays incomplete.
    const link = pair.b.nic("eth0")!;
    const deliver = link.deliverFrame.bind(link);
    link.deliverFrame = (buf, off, len, flags) => {
      const ipv4 = buf[off + 12] === 0x08 && buf[off + 13] === 0x00;
      const frag = (buf[off + 20] << 8) | buf[off + 21];
      if (ipv4 && (frag & 0x1fff) !== 0 && (frag & 0x2000) === 0) return;
      deliver(buf, off, len, flags);
    };
    (pair.b.ipv4 as unknown as { reassembler: { timeoutMs: number } }).reassembler.timeoutMs = 200;
    const x = UdpChannel.bind(pair.a, "0.0.0.0", 0);
    x.send(patternBytes(10_000), { address: "10.0.0.2", port: 2000 });
    await waitFor(() => pair!.b.counters.ip.ReasmTimeout === 1, 5000);
    await waitFor(() => pair!.a.counters.icmp.InTimeExcds === 1, 5000);
    expect(pair.b.ipv4.reassembler.bytesHeld).toBe(0);
    y.close();
    x.close();
  });
});

describe("ICMP and neighbour discovery", () => {
  it("answers ping over IPv4 and IPv6, and resolves neighbours with ARP and NDP", async () => {
    pair = stackPair();
    const p4 = pair.a.socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP) as PingSocket;
    const req = new Uint8Array(64);
    req[0] = 8;
    req[7] = 1;
    expect(p4.sendto(req, 0, { address: "10.0.0.2", port: 0 })).toBe(64);
    const reply = new Uint8Array(128);
    await waitFor(() => p4.recvfrom(reply, 0, null) === 64);
    expect(reply[0]).toBe(0);

    const p6 = pair.a.socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6) as PingSocket;
    const req6 = new Uint8Array(32);
    req6[0] = 128;
    expect(p6.sendto(req6, 0, { address: "fd00::2", port: 0 })).toBe(32);
    await waitFor(() => p6.recvfrom(reply, 0, null) === 32);
    expect(reply[0]).toBe(129);
    expect(pair.b.counters.icmp6.InNeighborSolicits).toBeGreaterThan(0);
    expect(pair.a.nic("eth0")!.arp.lookup("10.0.0.2")).not.toBeNull();
    expect(pair.a.nic("eth0")!.ndp.lookup("fd00::2")).not.toBeNull();

    // Link-local addresses work too.
    const ll = pair.b.nic("eth0")!.addresses.find((a) => a.address.startsWith("fe80"))!.address;
    expect(p6.sendto(req6, 0, { address: ll, port: 0 })).toBe(32);
    await waitFor(() => p6.recvfrom(reply, 0, null) === 32);
  });

  it("fails neighbour resolution after the retries and counts the dropped packets", async () => {
    pair = stackPair({}, { neighbor: { retransMs: 20 } });
    const s = pair.a.socket(AF_INET, SOCK_DGRAM) as UdpSocket;
    expect(s.sendto(new Uint8Array(8), 0, { address: "10.0.0.77", port: 9 })).toBe(8);
    await waitFor(() => pair!.a.counters.neigh.ResolutionFailures === 1);
    expect(pair.a.counters.neigh.UnresolvedDiscards).toBe(1);
    expect(pair.a.counters.neigh.ArpRequestsOut).toBe(3);
  });

  it("fails a TCP connect to an unresolvable neighbour with EHOSTUNREACH", async () => {
    pair = stackPair({}, { neighbor: { retransMs: 20 } });
    const c = pair.a.socket(AF_INET, 1) as TcpSocket;
    expect(c.connect({ address: "10.0.0.77", port: 80 })).toBe(-Errno.EINPROGRESS);
    await waitFor(() => c.state === TcpState.CLOSED, 5000);
    expect(c.getsockopt(SOL_SOCKET, 4)).toBe(Errno.EHOSTUNREACH);
  });

  it("routes through a default gateway", async () => {
    pair = stackPair();
    pair.a.setDefaultGateway("10.0.0.2", "eth0");
    const s = pair.a.socket(AF_INET, SOCK_DGRAM) as UdpSocket;
    expect(s.sendto(new Uint8Array(8), 0, { address: "192.0.2.1", port: 9 })).toBe(8);
    // b is no router: it drops the packet as not addressed to it.
    await waitFor(() => (pair!.b.counters.drops()["ipv4-not-for-us"] ?? 0) === 1);
    expect(pair.a.nic("eth0")!.arp.lookup("10.0.0.2")).not.toBeNull();
    expect(pair.b.listRoutes().length).toBeGreaterThan(0);
  });

  it("lets a stack talk to itself over loopback", async () => {
    const stack = new Stack();
    const x = UdpChannel.bind(stack, "127.0.0.1", 1);
    const y = UdpChannel.bind(stack, "::1", 2);
    x.send(new Uint8Array([1, 2, 3]), { address: "127.0.0.1", port: 1 });
    expect([...(await x.receive()).data]).toEqual([1, 2, 3]);
    y.send(new Uint8Array([4]), { address: "::1", port: 2 });
    expect([...(await y.receive()).data]).toEqual([4]);
    stack.close();
  });
});
