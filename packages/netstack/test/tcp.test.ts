import { afterEach, describe, expect, it } from "vitest";
import {
  AF_INET,
  AF_INET6,
  connectTcp,
  EPOLLIN,
  Errno,
  SO_LINGER,
  SO_REUSEADDR,
  SOCK_STREAM,
  SOL_SOCKET,
  type TcpSocket,
  TcpServer,
  TcpState,
  type TcpStream,
} from "../src/index";
import { type StackPair, stackPair, waitFor } from "./pair";

let pair: StackPair | null = null;
afterEach(() => {
  pair?.close();
  pair = null;
});

function tcp(stack: StackPair["a"], v6 = false): TcpSocket {
  return stack.socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM) as TcpSocket;
}

function listen(stack: StackPair["a"], port: number, v6 = false): TcpSocket {
  const l = tcp(stack, v6);
  expect(l.bind({ address: v6 ? "::" : "0.0.0.0", port })).toBe(0);
  expect(l.listen(16)).toBe(0);
  return l;
}

async function acceptOne(l: TcpSocket): Promise<TcpSocket> {
  let got: TcpSocket | number = -Errno.EAGAIN;
  await waitFor(() => {
    got = l.accept() as TcpSocket | number;
    return typeof got !== "number";
  });
  return got as unknown as TcpSocket;
}

async function connected(stack: StackPair["a"], to: string, port: number): Promise<TcpSocket> {
  const c = tcp(stack, to.includes(":"));
  expect(c.connect({ address: to, port })).toBe(-Errno.EINPROGRESS);
  await waitFor(() => c.state === TcpState.ESTABLISHED);
  return c;
}

function recvText(s: TcpSocket): string {
  const buf = new Uint8Array(65536);
  const n = s.recvfrom(buf, 0, null);
  return n > 0 ? Buffer.from(buf.subarray(0, n)).toString() : String(n);
}

async function readText(s: TcpSocket, expected: string): Promise<void> {
  let text = "";
  await waitFor(() => {
    const part = recvText(s);
    if (!part.startsWith("-") && part !== "0") text += part;
    return text.length >= expected.length;
  });
  expect(text).toBe(expected);
}

describe("TCP over the in-memory link", () => {
  it("completes the three-way handshake and negotiates options", async () => {
    pair = stackPair();
    const l = listen(pair.b, 80);
    const c = await connected(pair.a, "10.0.0.2", 80);
    const s = await acceptOne(l);
    expect(s.state).toBe(TcpState.ESTABLISHED);
    const info = c.info();
    expect(info.sack).toBe(true);
    expect(info.timestamps).toBe(true);
    expect(info.sndWscale).toBeGreaterThan(0);
    expect(info.mss).toBe(1500 - 40 - 12);
    expect(s.getpeername()).toEqual(c.getsockname());
    expect(pair.a.counters.tcp.ActiveOpens).toBe(1);
    expect(pair.b.counters.tcp.PassiveOpens).toBe(1);
  });

  it("carries data both ways", async () => {
    pair = stackPair();
    const l = listen(pair.b, 80);
    const c = await connected(pair.a, "10.0.0.2", 80);
    const s = await acceptOne(l);
    expect(c.sendto(new TextEncoder().encode("ping"), 0, null)).toBe(4);
    await readText(s, "ping");
    expect(s.sendto(new TextEncoder().encode("pong"), 0, null)).toBe(4);
    await readText(c, "pong");
  });

  it("refuses a connection to a closed port with ECONNREFUSED", async () => {
    pair = stackPair();
    const c = tcp(pair.a);
    expect(c.connect({ address: "10.0.0.2", port: 9 })).toBe(-Errno.EINPROGRESS);
    await waitFor(() => c.state === TcpState.CLOSED);
    expect(c.getsockopt(SOL_SOCKET, 4)).toBe(Errno.ECONNREFUSED);
    expect(pair.b.counters.tcp.OutRsts).toBe(1);
  });

  it("closes with FIN from the client first, then the server", async () => {
    pair = stackPair({}, { tcp: { timeWaitMs: 100 } });
    const l = listen(pair.b, 80);
    const c = await connected(pair.a, "10.0.0.2", 80);
    const s = await acceptOne(l);
    c.close();
    await waitFor(() => s.state === TcpState.CLOSE_WAIT && c.state === TcpState.FIN_WAIT_2);
    expect(recvText(s)).toBe("0");
    s.close();
    await waitFor(() => s.state === TcpState.CLOSED && c.state === TcpState.TIME_WAIT);
    await waitFor(() => c.state === TcpState.CLOSED);
    expect(pair.a.tcp.connectionCount).toBe(0);
    expect(pair.b.tcp.connectionCount).toBe(0);
  });

  it("closes with FIN from the server first", async () => {
    pair = stackPair({}, { tcp: { timeWaitMs: 100 } });
    const l = listen(pair.b, 80);
    const c = await connected(pair.a, "10.0.0.2", 80);
    const s = await acceptOne(l);
    s.close();
    await waitFor(() => c.state === TcpState.CLOSE_WAIT);
    c.close();
    await waitFor(() => c.state === TcpState.CLOSED && s.state === TcpState.TIME_WAIT);
    await waitFor(() => s.state === TcpState.CLOSED);
  });

  it("handles a simultaneous close through CLOSING", async () => {
    pair = stackPair({ delayMs: 20 }, { tcp: { timeWaitMs: 100 } });
    const l = listen(pair.b, 80);
    const c = await connected(pair.a, "10.0.0.2", 80);
    const s = await acceptOne(l);
    c.close();
    s.close();
    await waitFor(() => c.state === TcpState.CLOSING || c.state === TcpState.TIME_WAIT);
    await waitFor(() => c.state === TcpState.CLOSED && s.state === TcpState.CLOSED);
  });

  it("handles a simultaneous open", async () => {
    pair = stackPair({ delayMs: 20 });
    const x = tcp(pair.a);
    const y = tcp(pair.b);
    expect(x.bind({ address: "10.0.0.1", port: 5000 })).toBe(0);
    expect(y.bind({ address: "10.0.0.2", port: 6000 })).toBe(0);
    expect(x.connect({ address: "10.0.0.2", port: 6000 })).toBe(-Errno.EINPROGRESS);
    expect(y.connect({ address: "10.0.0.1", port: 5000 })).toBe(-Errno.EINPROGRESS);
    await waitFor(() => x.state === TcpState.ESTABLISHED && y.state === TcpState.ESTABLISHED);
    x.sendto(new TextEncoder().encode("hi"), 0, null);
    await readText(y, "hi");
  });

  it("keeps receiving after a half-close", async () => {
    pair = stackPair();
    const l = listen(pair.b, 80);
    const c = await connected(pair.a, "10.0.0.2", 80);
    const s = await acceptOne(l);
    expect(c.shutdown(1)).toBe(0);
    await waitFor(() => s.state === TcpState.CLOSE_WAIT);
    expect(c.sendto(new Uint8Array(1), 0, null)).toBe(-Errno.EPIPE);
    s.sendto(new TextEncoder().encode("still here"), 0, null);
    await readText(c, "still here");
    s.close();
    await waitFor(() => recvText(c) === "0");
  });

  it("aborts with RST on close with SO_LINGER 0 and reports ECONNRESET", async () => {
    pair = stackPair();
    const l = listen(pair.b, 80);
    const c = await connected(pair.a, "10.0.0.2", 80);
    const s = await acceptOne(l);
    expect(s.setsockopt(SOL_SOCKET, SO_LINGER, 0)).toBe(0);
    s.close();
    await waitFor(() => c.state === TcpState.CLOSED);
    expect(recvText(c)).toBe(String(-Errno.ECONNRESET));
    expect(c.readiness() & EPOLLIN).toBeTruthy();
    expect(pair.a.counters.tcp.EstabResets).toBe(1);
  });

  it("sends RST when closing with unread data", async () => {
    pair = stackPair();
    const l = listen(pair.b, 80);
    const c = await connected(pair.a, "10.0.0.2", 80);
    const s = await acceptOne(l);
    c.sendto(new Uint8Array(100), 0, null);
    await waitFor(() => s.readableBytes === 100);
    s.close();
    await waitFor(() => c.state === TcpState.CLOSED);
    expect(c.getsockopt(SOL_SOCKET, 4)).toBe(Errno.ECONNRESET);
  });

  it("applies the TIME_WAIT rules for reusing an address", async () => {
    pair = stackPair({}, { tcp: { timeWaitMs: 60_000 } });
    const l = listen(pair.b, 80);
    const c = tcp(pair.a);
    expect(c.bind({ address: "10.0.0.1", port: 4000 })).toBe(0);
    expect(c.connect({ address: "10.0.0.2", port: 80 })).toBe(-Errno.EINPROGRESS);
    await waitFor(() => c.state === TcpState.ESTABLISHED);
    const s = await acceptOne(l);
    c.close();
    await waitFor(() => s.state === TcpState.CLOSE_WAIT);
    s.close();
    await waitFor(() => c.state === TcpState.TIME_WAIT);

    // Without SO_REUSEADDR the port is still in use; with it, bind works.
    const again = tcp(pair.a);
    expect(again.bind({ address: "10.0.0.1", port: 4000 })).toBe(-Errno.EADDRINUSE);
    again.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    expect(again.bind({ address: "10.0.0.1", port: 4000 })).toBe(0);

    // Connecting the same four-tuple again fails while it is in TIME_WAIT...
    expect(again.connect({ address: "10.0.0.2", port: 80 })).toBe(-Errno.EADDRNOTAVAIL);

    // ...but a new SYN from the peer side with a newer timestamp reopens it (RFC 6191).
    const l2 = listen(pair.a, 4001);
    const back = tcp(pair.b);
    back.bind({ address: "10.0.0.2", port: 80 + 1 });
    expect(back.connect({ address: "10.0.0.1", port: 4001 })).toBe(-Errno.EINPROGRESS);
    await waitFor(() => back.state === TcpState.ESTABLISHED);
    l2.close();
  });

  it("reopens TIME_WAIT on a newer SYN", async () => {
    pair = stackPair({}, { tcp: { timeWaitMs: 60_000 } });
    const l = listen(pair.b, 80);
    const c = tcp(pair.a);
    c.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    expect(c.bind({ address: "10.0.0.1", port: 4100 })).toBe(0);
    c.connect({ address: "10.0.0.2", port: 80 });
    await waitFor(() => c.state === TcpState.ESTABLISHED);
    const s = await acceptOne(l);
    s.close();
    await waitFor(() => c.state === TcpState.CLOSE_WAIT);
    c.close();
    await waitFor(() => s.state === TcpState.TIME_WAIT);
    c.close();

    // The server side is in TIME_WAIT; the client reconnects from the same port.
    const d = tcp(pair.a);
    d.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    await waitFor(() => d.bind({ address: "10.0.0.1", port: 4100 }) === 0);
    expect(d.connect({ address: "10.0.0.2", port: 80 })).toBe(-Errno.EINPROGRESS);
    await waitFor(() => d.state === TcpState.ESTABLISHED);
    expect(pair.b.counters.tcpExt.TCPTimeWaitRecycled).toBe(1);
    const s2 = await acceptOne(l);
    expect(s2.state).toBe(TcpState.ESTABLISHED);
  });

  it("runs 1,000 connections in parallel", async () => {
    pair = stackPair({ mtu: 9000 });
    const server = TcpServer.listen(pair.b, "0.0.0.0", 7, 1024);
    server.on("connection", (s: TcpStream) => s.pipe(s));
    const clients = await Promise.all(Array.from({ length: 1000 }, () => connectTcp(pair!.a, "10.0.0.2", 7)));
    const replies = await Promise.all(
      clients.map(async (c, i) => {
        const msg = `hello ${i} `.repeat(50);
        c.end(msg);
        let got = "";
        for await (const chunk of c) got += chunk.toString();
        return got === msg;
      }),
    );
    expect(replies.every(Boolean)).toBe(true);
    expect(pair.b.counters.tcp.PassiveOpens + pair.b.counters.tcpExt.SyncookiesRecv).toBe(1000);
    server.close();
  });

  it("survives a SYN flood with bounded state and keeps serving with SYN cookies", async () => {
    pair = stackPair({ mtu: 1500 }, { tcp: { maxSynBacklog: 64 } });
    const l = listen(pair.b, 80);
    // A flood of SYNs from sources that never complete the handshake: the
    // attacker's side drops every SYN-ACK.
    pair.a.tcp.receive = () => undefined;
    const flood: TcpSocket[] = [];
    for (let i = 0; i < 5000; i++) {
      const s = tcp(pair.a);
      s.connect({ address: "10.0.0.2", port: 80 });
      flood.push(s);
    }
    await waitFor(() => pair!.b.counters.tcpExt.SyncookiesSent > 4000, 20_000);
    expect(pair.b.tcp.connectionCount).toBeLessThanOrEqual(64);
    expect(l.accept()).toBe(-Errno.EAGAIN);

    // The flood stops; a legitimate client gets through on a SYN cookie while
    // the half-open queue is still full.
    for (const s of flood) s.close();
    delete (pair.a.tcp as { receive?: unknown }).receive;
    const c = await connected(pair.a, "10.0.0.2", 80);
    const s = await acceptOne(l);
    expect(pair.b.counters.tcpExt.SyncookiesRecv).toBe(1);
    c.sendto(new TextEncoder().encode("through"), 0, null);
    await readText(s, "through");
  });

  it("connects to its own addresses over loopback", async () => {
    pair = stackPair();
    const server = TcpServer.listen(pair.a, "0.0.0.0", 9000);
    server.on("connection", (s: TcpStream) => s.pipe(s));
    for (const address of ["127.0.0.1", "10.0.0.1"]) {
      const c = await connectTcp(pair.a, address, 9000);
      c.end("loop");
      let got = "";
      for await (const chunk of c) got += chunk.toString();
      expect(got).toBe("loop");
    }
    expect(pair.a.nic("lo")!.link.capabilities).toBeGreaterThan(0);
    expect(pair.b.counters.tcp.InSegs).toBe(0);
    server.close();
  });

  it("carries data over IPv6", async () => {
    pair = stackPair();
    const l = listen(pair.b, 80, true);
    const c = await connected(pair.a, "fd00::2", 80);
    const s = await acceptOne(l);
    expect(s.getpeername()).toEqual({ address: "fd00::1", port: (c.getsockname() as { port: number }).port });
    c.sendto(new TextEncoder().encode("over v6"), 0, null);
    await readText(s, "over v6");
    expect(pair.a.counters.icmp6.OutNeighborSolicits).toBeGreaterThan(0);
  });

  it("probes a zero window and resumes when the reader drains", async () => {
    pair = stackPair();
    const l = tcp(pair.b);
    expect(l.setsockopt(SOL_SOCKET, 8, 4096)).toBe(0);
    l.bind({ address: "0.0.0.0", port: 80 });
    l.listen(4);
    const c = await connected(pair.a, "10.0.0.2", 80);
    const s = await acceptOne(l);
    expect(s.getsockopt(SOL_SOCKET, 8)).toBe(8192);
    const data = new Uint8Array(200_000);
    let sent = 0;
    await waitFor(() => {
      const n = c.sendto(data.subarray(sent), 0, null);
      if (n > 0) sent += n;
      return sent === data.length;
    });
    await waitFor(() => pair!.a.counters.tcpExt.TCPZeroWindowProbes > 0, 20_000);
    expect(s.readableBytes).toBe(8192);
    let got = 0;
    const buf = new Uint8Array(65536);
    await waitFor(() => {
      const n = s.recvfrom(buf, 0, null);
      if (n > 0) got += n;
      return got === data.length;
    }, 30_000);
  });

  it("sends keepalive probes and drops a dead peer with ETIMEDOUT", async () => {
    pair = stackPair();
    const l = listen(pair.b, 80);
    const c = await connected(pair.a, "10.0.0.2", 80);
    await acceptOne(l);
    c.setsockopt(SOL_SOCKET, 9, 1);
    c.setsockopt(6, 4, 1);
    c.setsockopt(6, 5, 1);
    c.setsockopt(6, 6, 2);
    pair.b.tcp.receive = () => undefined;
    await waitFor(() => c.state === TcpState.CLOSED, 10_000);
    expect(c.getsockopt(SOL_SOCKET, 4)).toBe(Errno.ETIMEDOUT);
    expect(pair.a.counters.tcpExt.TCPKeepAliveProbes).toBe(2);
  });
});
