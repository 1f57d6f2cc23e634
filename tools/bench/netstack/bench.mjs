#!/usr/bin/env node
// Benchmarks @sandbox/netstack, in one run on one machine:
//   - two netstack instances over the in-memory link (64 KiB MTU);
//   - netstack and the Linux kernel over a TAP device (1500-byte MTU);
//   - Linux to Linux over a veth pair (1500-byte MTU), for reference.
// Each case measures bulk TCP throughput and request/response latency
// (64-byte messages, TCP_NODELAY). The Linux side is Node's net module
// (peer.mjs) inside a network namespace this script creates and removes.
// Usage: npm run build && node tools/bench/netstack/bench.mjs [--bytes N] [--rounds N] [--json FILE]
// Requires root (netns, TAP, veth) and iproute2.
import { execFileSync, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as netstack from "@sandbox/netstack";

const { AF_INET, Errno, SOCK_STREAM, SOL_TCP, TCP_NODELAY, Stack, TapEndpoint, createMemoryLinkPair } = netstack;
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : fallback;
};
const BYTES = Number(option("bytes", String(1 << 30)));
const ROUNDS = Number(option("rounds", "5000"));
const jsonPath = option("json", undefined);
const peer = join(import.meta.dirname, "peer.mjs");
const suffix = `${process.pid % 10000}`;
const keepAlive = setInterval(() => undefined, 1000);

function ip(...a) {
  execFileSync("ip", a, { stdio: ["ignore", "ignore", "inherit"] });
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Starts peer.mjs in a namespace and waits for its "ready" line when it is a server. */
function startPeer(ns, peerArgs, server) {
  const child = spawn("ip", ["netns", "exec", ns, process.execPath, peer, ...peerArgs], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  const ready = new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => {
      out += d;
      if (server && out.includes("ready")) resolve(out);
    });
    child.on("exit", (code) => (code === 0 || server ? resolve(out) : reject(new Error(`peer ${peerArgs[0]} exited ${code}`))));
  });
  return { child, ready };
}

/** Connects a netstack socket and resolves once it is established. */
function connect(stack, address, port) {
  const s = stack.socket(AF_INET, SOCK_STREAM);
  return new Promise((resolve, reject) => {
    const check = () => {
      const err = s.getsockopt(1, 4);
      if (err > 0) return reject(new Error(`connect: errno ${err}`));
      if (typeof s.getpeername() !== "number") {
        s.off("readiness", check);
        resolve(s);
      }
    };
    s.on("readiness", check);
    const r = s.connect({ address, port });
    if (r !== -Errno.EINPROGRESS) reject(new Error(`connect: ${r}`));
  });
}

/** Sends `bytes` over a connected netstack socket and resolves when the peer replies after EOF. */
function sendBulk(s, bytes) {
  const chunk = new Uint8Array(1 << 20);
  const scratch = new Uint8Array(65536);
  let sent = 0;
  let shut = false;
  const start = performance.now();
  return new Promise((resolve) => {
    const step = () => {
      while (sent < bytes) {
        const n = s.sendto(chunk.subarray(0, Math.min(chunk.length, bytes - sent)), 0, null);
        if (n < 0) break;
        sent += n;
      }
      if (sent === bytes && !shut) {
        shut = true;
        s.shutdown(1);
      }
      for (;;) {
        const n = s.recvfrom(scratch, 0, null);
        if (n === 0) {
          s.off("readiness", step);
          s.close();
          resolve((bytes * 8) / ((performance.now() - start) / 1000) / 1e9);
          return;
        }
        if (n < 0) return;
      }
    };
    s.on("readiness", step);
    step();
  });
}

/** Accepts one connection on a netstack listener, reads to EOF, replies "done" and closes. */
function sinkOnce(stack, port) {
  const l = stack.socket(AF_INET, SOCK_STREAM);
  l.bind({ address: "0.0.0.0", port });
  l.listen(4);
  const buf = new Uint8Array(1 << 20);
  return new Promise((resolve) => {
    l.on("readiness", () => {
      const s = l.accept();
      if (typeof s === "number") return;
      let total = 0;
      let start = 0;
      const step = () => {
        for (;;) {
          const n = s.recvfrom(buf, 0, null);
          if (n > 0) {
            if (start === 0) start = performance.now();
            total += n;
            continue;
          }
          if (n === 0) {
            const seconds = (performance.now() - start) / 1000;
            s.sendto(new TextEncoder().encode("done"), 0, null);
            s.off("readiness", step);
            s.close();
            l.close();
            resolve((total * 8) / seconds / 1e9);
          }
          return;
        }
      };
      s.on("readiness", step);
      step();
    });
  });
}

/** Runs request/response round trips of 64 bytes on a connected socket against an echo server. */
function roundTrips(s, rounds) {
  s.setsockopt(SOL_TCP, TCP_NODELAY, 1);
  const req = new Uint8Array(64).fill(1);
  const buf = new Uint8Array(4096);
  const samples = [];
  let got = 0;
  let t0 = performance.now();
  return new Promise((resolve) => {
    const step = () => {
      for (;;) {
        const n = s.recvfrom(buf, 0, null);
        if (n <= 0) return;
        got += n;
        while (got >= 64) {
          got -= 64;
          samples.push((performance.now() - t0) * 1000);
          if (samples.length === rounds) {
            s.off("readiness", step);
            s.close();
            samples.sort((a, b) => a - b);
            resolve({ mean: samples.reduce((a, b) => a + b, 0) / samples.length, p50: quantile(samples, 0.5), p99: quantile(samples, 0.99) });
            return;
          }
          t0 = performance.now();
          s.sendto(req, 0, null);
        }
      }
    };
    s.on("readiness", step);
    s.sendto(req, 0, null);
  });
}

/** Starts a netstack echo server. */
function echoServer(stack, port) {
  const l = stack.socket(AF_INET, SOCK_STREAM);
  l.bind({ address: "0.0.0.0", port });
  l.listen(4);
  const buf = new Uint8Array(65536);
  l.on("readiness", () => {
    const s = l.accept();
    if (typeof s === "number") return;
    s.setsockopt(SOL_TCP, TCP_NODELAY, 1);
    const step = () => {
      for (;;) {
        const n = s.recvfrom(buf, 0, null);
        if (n <= 0) {
          if (n === 0) s.close();
          return;
        }
        s.sendto(buf.subarray(0, n), 0, null);
      }
    };
    s.on("readiness", step);
    step();
  });
  return l;
}

async function memoryCase(checksumOffload) {
  const [la, lb] = createMemoryLinkPair({ mtu: 65536, checksumOffload });
  const a = new Stack();
  const b = new Stack();
  a.addNic(la, { addresses: ["10.0.0.1/24"] });
  b.addNic(lb, { addresses: ["10.0.0.2/24"] });
  const sink = sinkOnce(b, 5001);
  const gbps = await sendBulk(await connect(a, "10.0.0.2", 5001), BYTES);
  await sink;
  const echo = echoServer(b, 5002);
  const rr = await roundTrips(await connect(a, "10.0.0.2", 5002), ROUNDS);
  echo.close();
  a.close();
  b.close();
  return { gbps, reverseGbps: null, rr };
}

async function tapCase() {
  const ns = `nsbench${suffix}`;
  const tap = `nsbtap${suffix}`;
  ip("netns", "add", ns);
  let stack = null;
  try {
    const link = TapEndpoint.open(tap, { mtu: 1500 });
    ip("link", "set", tap, "netns", ns);
    ip("-n", ns, "addr", "add", "10.210.0.1/24", "dev", tap);
    ip("-n", ns, "link", "set", tap, "mtu", "1500", "up");
    ip("-n", ns, "link", "set", "lo", "up");
    stack = new Stack();
    stack.addNic(link, { addresses: ["10.210.0.2/24"] });

    const sink = startPeer(ns, ["sink", "6001"], true);
    await sink.ready;
    const gbps = await sendBulk(await connect(stack, "10.210.0.1", 6001), BYTES);
    sink.child.kill();

    const ours = sinkOnce(stack, 6002);
    const sender = startPeer(ns, ["send", "10.210.0.2", "6002", String(BYTES)], false);
    const reverseGbps = await ours;
    await sender.ready;

    const echo = startPeer(ns, ["echo", "6003"], true);
    await echo.ready;
    const rr = await roundTrips(await connect(stack, "10.210.0.1", 6003), ROUNDS);
    echo.child.kill();
    return { gbps, reverseGbps, rr };
  } finally {
    stack?.close();
    ip("netns", "del", ns);
  }
}

async function vethCase() {
  const nsA = `nsbencha${suffix}`;
  const nsB = `nsbenchb${suffix}`;
  ip("netns", "add", nsA);
  ip("netns", "add", nsB);
  try {
    ip("link", "add", `vba${suffix}`, "netns", nsA, "type", "veth", "peer", "name", `vbb${suffix}`, "netns", nsB);
    ip("-n", nsA, "addr", "add", "10.211.0.1/24", "dev", `vba${suffix}`);
    ip("-n", nsB, "addr", "add", "10.211.0.2/24", "dev", `vbb${suffix}`);
    ip("-n", nsA, "link", "set", `vba${suffix}`, "up");
    ip("-n", nsB, "link", "set", `vbb${suffix}`, "up");
    const sink = startPeer(nsB, ["sink", "7001"], true);
    await sink.ready;
    const send = startPeer(nsA, ["send", "10.211.0.2", "7001", String(BYTES)], false);
    const { gbps } = JSON.parse(await send.ready);
    sink.child.kill();
    const echo = startPeer(nsB, ["echo", "7002"], true);
    await echo.ready;
    const rrRun = startPeer(nsA, ["rr", "10.211.0.2", "7002", String(ROUNDS), "64"], false);
    const rr = JSON.parse(await rrRun.ready);
    echo.child.kill();
    return { gbps, reverseGbps: null, rr };
  } finally {
    ip("netns", "del", nsA);
    ip("netns", "del", nsB);
  }
}

const results = [];
const row = (name, r) => {
  results.push({ name, ...r });
  const rev = r.reverseGbps === null ? "" : ` (reverse ${r.reverseGbps.toFixed(2)})`;
  console.log(`| ${name} | ${r.gbps.toFixed(2)}${rev} | ${r.rr.mean.toFixed(1)} | ${r.rr.p50.toFixed(1)} | ${r.rr.p99.toFixed(1)} |`);
};
console.log(`bytes per bulk transfer: ${BYTES}, round trips: ${ROUNDS}`);
console.log("| case | bulk Gbit/s | RR mean us | RR p50 us | RR p99 us |");
console.log("| --- | --- | --- | --- | --- |");
row("netstack <-> netstack, in-memory link, 64 KiB MTU", await memoryCase(false));
row("netstack <-> netstack, in-memory link, 64 KiB MTU, checksum offload", await memoryCase(true));
row("netstack -> Linux over TAP, 1500 MTU (reverse: Linux -> netstack)", await tapCase());
row("Linux <-> Linux over veth, 1500 MTU (Node net on both ends)", await vethCase());
if (jsonPath !== undefined) writeFileSync(jsonPath, JSON.stringify(results, null, 2));
clearInterval(keepAlive);
