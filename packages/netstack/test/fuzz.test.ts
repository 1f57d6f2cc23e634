import { createHash } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { AF_INET, Errno, SOCK_STREAM, type TcpSocket, TcpState, UdpChannel } from "../src/index";
import { fixIpv4Checksum, fixL4Checksum } from "./frames";
import { patternBytes, type StackPair, stackPair, waitFor } from "./pair";

/** Frames fed to the stack: one million by default; NETSTACK_FUZZ_FRAMES raises it for a soak run. */
const FRAMES = Number(process.env.NETSTACK_FUZZ_FRAMES ?? 1_000_000);
const LIVE_PORTS = new Set([80]);

let pair: StackPair | null = null;
afterEach(() => {
  pair?.close();
  pair = null;
});

/** xorshift32, so a failing run can be replayed from its seed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

describe("fuzzing a live stack", () => {
  it(`survives ${FRAMES} random and mutated frames with connections intact and memory bounded`, async () => {
    const keep = setInterval(() => undefined, 1000);
    try {
      pair = stackPair({ mtu: 1500 });
      const { a, b } = pair;

      // Live traffic: ten TCP connections and a UDP socket, with frames captured as templates.
      const templates: Uint8Array[] = [];
      const nicB = b.nic("eth0")!;
      const deliver = nicB.deliverFrame.bind(nicB);
      nicB.deliverFrame = (buf, off, len, flags) => {
        if (templates.length < 512) templates.push(buf.slice(off, off + len));
        deliver(buf, off, len, flags);
      };
      const l = b.socket(AF_INET, SOCK_STREAM) as TcpSocket;
      l.bind({ address: "0.0.0.0", port: 80 });
      l.listen(64);
      const clients: TcpSocket[] = [];
      for (let i = 0; i < 10; i++) {
        const c = a.socket(AF_INET, SOCK_STREAM) as TcpSocket;
        expect(c.connect({ address: "10.0.0.2", port: 80 })).toBe(-Errno.EINPROGRESS);
        clients.push(c);
      }
      await waitFor(() => clients.every((c) => c.state === TcpState.ESTABLISHED));
      const servers: TcpSocket[] = [];
      await waitFor(() => {
        const s = l.accept();
        if (typeof s !== "number") servers.push(s as TcpSocket);
        return servers.length === 10;
      });
      const udp = UdpChannel.bind(b, "0.0.0.0", 53);
      const udpTx = UdpChannel.bind(a, "0.0.0.0", 0);
      udpTx.send(new Uint8Array(100), { address: "10.0.0.2", port: 53 });
      await udp.receive();
      for (const c of clients) c.sendto(new Uint8Array(3000), 0, null);
      await waitFor(() => servers.every((s) => s.readableBytes === 3000));
      for (const s of servers) s.recvfrom(new Uint8Array(3000), 0, null);
      nicB.deliverFrame = deliver;

      // Random templates: ARP, IPv4 with each protocol, IPv6 with extension headers.
      const random = rng(12345);
      for (let i = 0; i < 64; i++) {
        const t = new Uint8Array(60 + Math.floor(random() * 200));
        for (let k = 0; k < t.length; k++) t[k] = Math.floor(random() * 256);
        t.set(nicB.mac, 0);
        const kind = i % 4;
        if (kind === 0) t.set([0x08, 0x06], 12);
        if (kind === 1 || kind === 2) {
          t.set([0x08, 0x00, 0x45], 12);
          t.set([10, 0, 0, 1, 10, 0, 0, 2], 26);
          t[23] = [1, 6, 17][i % 3];
        }
        if (kind === 3) {
          t.set([0x86, 0xdd, 0x60], 12);
          t[20] = [0, 6, 17, 58, 43, 44, 60, 59][i % 8];
          t.set([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 22);
          t.set([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], 38);
        }
        templates.push(t);
      }

      const heapBefore = process.memoryUsage().heapUsed;
      const buf = new Uint8Array(2048);
      let thrown = 0;
      const batch = 2000;
      for (let sent = 0; sent < FRAMES; sent += batch) {
        for (let i = 0; i < batch; i++) {
          const t = templates[Math.floor(random() * templates.length)];
          let len = t.length;
          buf.set(t);
          // Mutate: flip bytes, cut or extend, sometimes repair checksums so the frame gets deeper.
          const flips = 1 + Math.floor(random() * 4);
          for (let k = 0; k < flips; k++) buf[Math.floor(random() * len)] = Math.floor(random() * 256);
          const r = random();
          if (r < 0.1) len = Math.floor(random() * len);
          else if (r < 0.15) {
            const extra = Math.floor(random() * 200);
            for (let k = 0; k < extra; k++) buf[len + k] = Math.floor(random() * 256);
            len += extra;
          }
          const frame = buf.subarray(0, len);
          if (random() < 0.5 && len >= 34 && buf[12] === 0x08 && buf[13] === 0x00) {
            fixIpv4Checksum(frame);
            // Segments for live connections keep their broken checksum: a
            // blind attacker cannot know their sequence numbers.
            const l4 = 14 + (buf[14] & 0xf) * 4;
            const dport = len >= l4 + 4 ? (buf[l4 + 2] << 8) | buf[l4 + 3] : 0;
            if (random() < 0.7 && !LIVE_PORTS.has(dport)) fixL4Checksum(frame);
          }
          // ARP carries no authentication: a forged reply for the live peer
          // would redirect its traffic on Linux too, so senders other than
          // 10.0.0.1 are used.
          if (len >= 42 && buf[12] === 0x08 && buf[13] === 0x06 && buf[28] === 10 && buf[29] === 0 && buf[30] === 0 && buf[31] === 1) buf[31] = 2 + Math.floor(random() * 250);
          if (random() < 0.5 && len >= 54 && buf[12] === 0x86 && buf[13] === 0xdd) {
            buf[18] = (len - 54) >>> 8;
            buf[19] = (len - 54) & 0xff;
          }
          try {
            nicB.deliverFrame(buf, 0, len, 0);
          } catch {
            thrown++;
          }
        }
        nicB.endBatch();
        await new Promise((r) => setImmediate(r));
      }
      expect(thrown).toBe(0);

      // Connections are intact: each carries data both ways, verified by hash.
      const data = patternBytes(20_000, 5);
      const want = createHash("sha256").update(data).digest("hex");
      for (const c of clients) expect(c.sendto(data, 0, null)).toBe(data.length);
      await waitFor(() => servers.every((s) => s.readableBytes === data.length), 20_000);
      for (const s of servers) {
        const got = new Uint8Array(data.length);
        expect(s.recvfrom(got, 0, null)).toBe(data.length);
        expect(createHash("sha256").update(got).digest("hex")).toBe(want);
        expect(s.state).toBe(TcpState.ESTABLISHED);
      }

      // Memory is bounded: fragments, neighbours, half-open connections, heap.
      expect(b.ipv4.reassembler.bytesHeld).toBeLessThanOrEqual(4 << 20);
      expect(b.ipv6.reassembler.bytesHeld).toBeLessThanOrEqual(4 << 20);
      expect(nicB.arp.size).toBeLessThanOrEqual(1024);
      expect(nicB.ndp.size).toBeLessThanOrEqual(1024);
      expect(b.tcp.connectionCount).toBeLessThanOrEqual(10 + 1024);
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(256 << 20);
      if (process.env.NETSTACK_FUZZ_VERBOSE !== undefined) console.log(b.counters.drops(), b.counters.tcp, b.counters.udp);
      expect(b.counters.totalDrops()).toBeGreaterThan(FRAMES / 2);
      udp.close();
      udpTx.close();
    } finally {
      clearInterval(keep);
    }
  }, 240_000);
});
