#!/usr/bin/env node
// The Linux side of the netstack benchmark: Node's net module over the
// kernel's TCP stack, run inside a network namespace.
//   peer.mjs sink PORT            accept one connection, read to EOF, reply "done", close
//   peer.mjs echo PORT            echo every byte back on each connection
//   peer.mjs send HOST PORT BYTES connect, send BYTES, wait for "done"; print Gbit/s
//   peer.mjs rr HOST PORT N SIZE  N request/response round trips of SIZE bytes; print mean, p50 and p99 in us
import net from "node:net";

const [mode, ...rest] = process.argv.slice(2);

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

if (mode === "sink") {
  const server = net.createServer((s) => {
    s.on("data", () => undefined);
    s.on("end", () => s.end("done"));
    s.on("close", () => server.close());
  });
  server.listen(Number(rest[0]), () => console.log("ready"));
} else if (mode === "echo") {
  const server = net.createServer((s) => {
    s.setNoDelay(true);
    s.pipe(s);
  });
  server.listen(Number(rest[0]), () => console.log("ready"));
} else if (mode === "send") {
  const [host, port, bytes] = [rest[0], Number(rest[1]), Number(rest[2])];
  const chunk = Buffer.alloc(1 << 20);
  const s = net.connect(port, host, () => {
    const start = performance.now();
    let left = bytes;
    const write = () => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void s.once("drain", write);
      }
      s.end();
    };
    s.on("data", () => undefined);
    s.on("end", () => {
      const seconds = (performance.now() - start) / 1000;
      console.log(JSON.stringify({ gbps: (bytes * 8) / seconds / 1e9 }));
    });
    write();
  });
} else if (mode === "rr") {
  const [host, port, count, size] = [rest[0], Number(rest[1]), Number(rest[2]), Number(rest[3])];
  const request = Buffer.alloc(size, 1);
  const samples = [];
  const s = net.connect(port, host, () => {
    s.setNoDelay(true);
    let got = 0;
    let t0 = performance.now();
    s.on("data", (d) => {
      got += d.length;
      if (got < size) return;
      got -= size;
      samples.push((performance.now() - t0) * 1000);
      if (samples.length === count) {
        samples.sort((a, b) => a - b);
        const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
        console.log(JSON.stringify({ mean, p50: quantile(samples, 0.5), p99: quantile(samples, 0.99) }));
        s.destroy();
        return;
      }
      t0 = performance.now();
      s.write(request);
    });
    s.write(request);
  });
} else {
  console.error("usage: peer.mjs sink|echo|send|rr ...");
  process.exit(2);
}
