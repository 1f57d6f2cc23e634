import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AF_INET, AF_INET6, connectTcp, IPPROTO_ICMP, IPPROTO_ICMPV6, openPacketSocket, openTapDevice, PacketEndpoint, type PingSocket, SOCK_DGRAM, Stack, TapEndpoint, TcpServer, type TcpStream, UdpChannel } from "../src/index";
import { canUseNetns, inNs, sh, spawnInNs, uniqueName } from "./netns";
import { patternBytes, waitFor } from "./pair";

const ok = await canUseNetns();
const LINUX4 = "10.200.0.1";
const OURS4 = "10.200.0.2";
const LINUX6 = "fd00:200::1";
const OURS6 = "fd00:200::2";
const BODY = patternBytes(10 << 20, 21);
const BODY_SHA = createHash("sha256").update(BODY).digest("hex");

async function ping(stack: Stack, address: string): Promise<boolean> {
  const v6 = address.includes(":");
  const s = stack.socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP) as PingSocket;
  const req = new Uint8Array(56);
  req[0] = v6 ? 128 : 8;
  const reply = new Uint8Array(128);
  try {
    for (let i = 0; i < 5; i++) {
      req[7] = i;
      s.sendto(req, 0, { address, port: 0 });
      try {
        await waitFor(() => s.recvfrom(reply, 0, null) === 56, 1000);
        return true;
      } catch {
        // Retry: the first request may wait for neighbour resolution.
      }
    }
    return false;
  } finally {
    s.close();
  }
}

/** Serves one HTTP/1.0 response with `body` on a netstack TcpStream, then closes it. */
function serveHttp(stream: TcpStream, body: Uint8Array): void {
  let head = "";
  stream.on("data", (chunk: Buffer) => {
    if (head.includes("\r\n\r\n")) return;
    head += chunk.toString("latin1");
    if (!head.includes("\r\n\r\n")) return;
    stream.write(`HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
    stream.end(Buffer.from(body.buffer, body.byteOffset, body.length));
  });
  stream.on("end", () => undefined);
  stream.on("error", () => undefined);
}

describe.skipIf(!ok)("interoperability with the Linux kernel over a TAP device", () => {
  const ns = uniqueName("nstk");
  const tapName = uniqueName("nstap");
  const dir = mkdtempSync(join(tmpdir(), "netstack-"));
  let stack: Stack;
  let tap: TapEndpoint | null = null;
  const children: number[] = [];

  beforeAll(async () => {
    await sh("ip", ["netns", "add", ns]);
    tap = TapEndpoint.open(tapName, { mtu: 1500 });
    await sh("ip", ["link", "set", tapName, "netns", ns]);
    await inNs(ns, "ip", ["link", "set", "lo", "up"]);
    await inNs(ns, "ip", ["addr", "add", `${LINUX4}/24`, "dev", tapName]);
    await inNs(ns, "ip", ["-6", "addr", "add", `${LINUX6}/64`, "dev", tapName, "nodad"]);
    await inNs(ns, "ip", ["link", "set", tapName, "mtu", "1500", "up"]);
    stack = new Stack();
    stack.addNic(tap, { name: "eth0", addresses: [`${OURS4}/24`, `${OURS6}/64`] });
  });

  afterAll(async () => {
    for (const pid of children) {
      try {
        process.kill(pid);
      } catch {
        // Already gone.
      }
    }
    stack?.close();
    await sh("ip", ["netns", "del", ns]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers Linux's ping over IPv4 and IPv6", async () => {
    await inNs(ns, "ping", ["-c", "3", "-i", "0.2", "-W", "2", OURS4]);
    await inNs(ns, "ping", ["-6", "-c", "3", "-i", "0.2", "-W", "2", OURS6]);
    expect(stack.counters.icmp.OutEchoReps).toBeGreaterThanOrEqual(3);
    expect(stack.counters.icmp6.OutEchoReplies).toBeGreaterThanOrEqual(3);
  });

  it("pings Linux over IPv4 and IPv6", async () => {
    expect(await ping(stack, LINUX4)).toBe(true);
    expect(await ping(stack, LINUX6)).toBe(true);
  });

  it("serves a 10 MiB body to curl on Linux", async () => {
    const server = TcpServer.listen(stack, "0.0.0.0", 8080);
    server.on("connection", (s) => serveHttp(s, BODY));
    try {
      const out = await inNs(ns, "sh", ["-c", `curl -sS --max-time 60 http://${OURS4}:8080/ | sha256sum`], 90_000);
      expect(out.split(" ")[0]).toBe(BODY_SHA);
    } finally {
      server.close();
    }
  }, 120_000);

  it("serves a 10 MiB body to curl over IPv6", async () => {
    const server = TcpServer.listen(stack, "::", 8081);
    server.on("connection", (s) => serveHttp(s, BODY));
    try {
      const out = await inNs(ns, "sh", ["-c", `curl -sS --max-time 60 'http://[${OURS6}]:8081/' | sha256sum`], 90_000);
      expect(out.split(" ")[0]).toBe(BODY_SHA);
    } finally {
      server.close();
    }
  }, 120_000);

  it("fetches a file from Python's http.server on Linux", async () => {
    const file = patternBytes(3 << 20, 33);
    writeFileSync(join(dir, "blob.bin"), file);
    const py = spawnInNs(ns, "python3", ["-m", "http.server", "8000", "--bind", LINUX4, "--directory", dir]);
    children.push(py.pid as number);
    try {
      let body: Buffer | null = null;
      for (let attempt = 0; attempt < 50 && body === null; attempt++) {
        try {
          const c = await connectTcp(stack, LINUX4, 8000);
          c.end(`GET /blob.bin HTTP/1.0\r\nHost: ${LINUX4}\r\n\r\n`);
          const parts: Buffer[] = [];
          for await (const chunk of c) parts.push(chunk as Buffer);
          body = Buffer.concat(parts);
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      expect(body).not.toBeNull();
      const text = (body as Buffer).subarray(0, 12).toString();
      expect(text).toMatch(/^HTTP\/1\.[01] 200/);
      const split = (body as Buffer).indexOf("\r\n\r\n");
      const payload = (body as Buffer).subarray(split + 4);
      expect(createHash("sha256").update(payload).digest("hex")).toBe(createHash("sha256").update(file).digest("hex"));
    } finally {
      py.kill();
    }
  }, 60_000);

  it("exchanges UDP datagrams both ways", async () => {
    // Linux echoes to netstack.
    const echo = spawnInNs(ns, "python3", [
      "-c",
      `import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(("${LINUX4}",7000))\nfor _ in range(3):\n  d,a=s.recvfrom(65535)\n  s.sendto(d,a)\n`,
    ]);
    children.push(echo.pid as number);
    const ch = UdpChannel.bind(stack, "0.0.0.0", 0);
    let got: string | null = null;
    const reply = ch.receive().then((m) => {
      got = new TextDecoder().decode(m.data);
    });
    for (let i = 0; i < 30 && got === null; i++) {
      ch.send(new TextEncoder().encode(`hello ${i}`), { address: LINUX4, port: 7000 });
      await Promise.race([reply, new Promise((r) => setTimeout(r, 200))]);
    }
    expect(got).toMatch(/^hello \d+$/);
    echo.kill();

    // netstack echoes to Linux.
    const server = UdpChannel.bind(stack, "0.0.0.0", 7001);
    void (async () => {
      for await (const m of server) server.send(m.data, m.from);
    })().catch(() => undefined);
    const out = await inNs(ns, "python3", [
      "-c",
      `import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.settimeout(2)\ns.sendto(b"from linux",("${OURS4}",7001))\nprint(s.recvfrom(100)[0].decode())\n`,
    ]);
    expect(out.trim()).toBe("from linux");
    server.close();
    ch.close();
  }, 30_000);
});

describe.skipIf(!ok)("interoperability with the Linux kernel over AF_PACKET on a veth pair", () => {
  const ns = uniqueName("nstkv");
  const outer = uniqueName("nsva");
  const inner = uniqueName("nsvb");
  let stack: Stack | null = null;

  beforeAll(async () => {
    await sh("ip", ["netns", "add", ns]);
    await sh("ip", ["link", "add", outer, "type", "veth", "peer", "name", inner, "netns", ns]);
    // The host end carries no address, and no IPv6, so the host stack stays out of the way.
    writeFileSync(`/proc/sys/net/ipv6/conf/${outer}/disable_ipv6`, "1");
    await sh("ip", ["link", "set", outer, "up"]);
    await inNs(ns, "ip", ["addr", "add", "10.201.0.1/24", "dev", inner]);
    await inNs(ns, "ip", ["-6", "addr", "add", "fd00:201::1/64", "dev", inner, "nodad"]);
    await inNs(ns, "ip", ["link", "set", inner, "up"]);
    // The socket is opened as a privileged helper would, then handed over as a descriptor.
    const fd = openPacketSocket(outer);
    expect(fd).toBeGreaterThanOrEqual(0);
    stack = new Stack();
    stack.addNic(PacketEndpoint.fromFd(fd, {}, true), { name: "eth0", addresses: ["10.201.0.2/24", "fd00:201::2/64"] });
  });

  afterAll(async () => {
    stack?.close();
    await sh("ip", ["netns", "del", ns]).catch(() => undefined);
    await sh("ip", ["link", "del", outer]).catch(() => undefined);
  });

  it("answers ping and serves HTTP to curl through the veth", async () => {
    const s = stack as Stack;
    await inNs(ns, "ping", ["-c", "2", "-i", "0.2", "-W", "2", "10.201.0.2"]);
    await inNs(ns, "ping", ["-6", "-c", "2", "-i", "0.2", "-W", "2", "fd00:201::2"]);
    expect(await ping(s, "10.201.0.1")).toBe(true);
    const server = TcpServer.listen(s, "0.0.0.0", 8080);
    server.on("connection", (c) => serveHttp(c, BODY));
    try {
      const out = await inNs(ns, "sh", ["-c", "curl -sS --max-time 60 http://10.201.0.2:8080/ | sha256sum"], 90_000);
      expect(out.split(" ")[0]).toBe(BODY_SHA);
    } finally {
      server.close();
    }
  }, 120_000);
});

describe.skipIf(!ok)("a TAP endpoint built from a handed-over descriptor", () => {
  const ns = uniqueName("nstkf");
  const tapName = uniqueName("nstapf");
  let stack: Stack | null = null;

  beforeAll(async () => {
    await sh("ip", ["netns", "add", ns]);
    const fd = openTapDevice(tapName);
    expect(fd).toBeGreaterThanOrEqual(0);
    const tap = TapEndpoint.fromFd(fd, {}, true);
    expect(tap.name).toBe(tapName);
    await sh("ip", ["link", "set", tapName, "netns", ns]);
    await inNs(ns, "ip", ["addr", "add", "10.202.0.1/24", "dev", tapName]);
    await inNs(ns, "ip", ["link", "set", tapName, "up"]);
    stack = new Stack();
    stack.addNic(tap, { name: "eth0", addresses: ["10.202.0.2/24"] });
  });

  afterAll(async () => {
    stack?.close();
    await sh("ip", ["netns", "del", ns]).catch(() => undefined);
  });

  it("pings both ways", async () => {
    await inNs(ns, "ping", ["-c", "2", "-i", "0.2", "-W", "2", "10.202.0.2"]);
    expect(await ping(stack as Stack, "10.202.0.1")).toBe(true);
  });
});
