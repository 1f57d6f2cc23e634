import { AF_INET, createMemoryLinkPair, Errno, SOCK_STREAM, Stack, type TcpSocket } from "../../../packages/netstack/src/index";
async function main() {
  const offload = process.argv[2] === "offload";
  const [la, lb] = createMemoryLinkPair({ mtu: 65536, checksumOffload: offload });
  const a = new Stack(); const b = new Stack();
  a.addNic(la, { addresses: ["10.0.0.1/24"] }); b.addNic(lb, { addresses: ["10.0.0.2/24"] });
  const l = b.socket(AF_INET, SOCK_STREAM) as TcpSocket;
  l.bind({ address: "0.0.0.0", port: 5001 }); l.listen(10);
  const total = Number(process.env.TOTAL ?? 1 << 30);
  let received = 0;
  const rbuf = new Uint8Array(1 << 20);
  const done = new Promise<void>((resolve) => {
    l.on("readiness", () => {
      const s = l.accept();
      if (typeof s === "number") return;
      s.on("readiness", () => {
        for (;;) { const n = s.recvfrom(rbuf, 0, null); if (n <= 0) { if (n === 0) resolve(); break; } received += n; }
      });
    });
  });
  const c = a.socket(AF_INET, SOCK_STREAM) as TcpSocket;
  const wbuf = new Uint8Array(1 << 20);
  let sent = 0;
  let shut = false;
  const t0 = performance.now();
  const pump = () => {
    while (sent < total) { const n = c.sendto(wbuf.subarray(0, Math.min(wbuf.length, total - sent)), 0, null); if (n < 0) break; sent += n; }
    if (sent >= total && !shut) { shut = true; c.shutdown(1); }
  };
  c.on("readiness", pump);
  if (c.connect({ address: "10.0.0.2", port: 5001 }) !== -Errno.EINPROGRESS) throw new Error("connect");
  const keep = setInterval(() => {}, 1000);
  await done;
  clearInterval(keep);
  const ms = performance.now() - t0;
  console.log("Gbit/s", ((received * 8) / (ms / 1000) / 1e9).toFixed(2), "retrans", a.counters.tcp.RetransSegs);
  a.close(); b.close();
}
main();
