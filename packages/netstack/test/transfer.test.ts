import { createHash } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { AF_INET, Errno, SOCK_STREAM, type Stack, type TcpSocket, TcpState } from "../src/index";
import { patternBytes, type StackPair, stackPair } from "./pair";

let pair: StackPair | null = null;
afterEach(() => {
  pair?.close();
  pair = null;
});

/**
 * Sends `data` from `from` to port 5001 of `to` with the socket calls and
 * returns the SHA-256 of what arrived, in both directions at once when
 * `echo` is set (the receiver sends its own copy back).
 */
function transfer(from: Stack, to: Stack, toAddress: string, data: Uint8Array): Promise<{ forward: string; backward: string }> {
  const l = to.socket(AF_INET, SOCK_STREAM) as TcpSocket;
  expect(l.bind({ address: "0.0.0.0", port: 5001 })).toBe(0);
  expect(l.listen(4)).toBe(0);
  const c = from.socket(AF_INET, SOCK_STREAM) as TcpSocket;
  const rbuf = new Uint8Array(1 << 20);

  // Each side sends the whole buffer and hashes what it receives.
  const run = (s: TcpSocket, onDone: (sha: string) => void) => {
    const h = createHash("sha256");
    let sent = 0;
    let shut = false;
    let finished = false;
    const step = () => {
      while (sent < data.length) {
        const n = s.sendto(data.subarray(sent, Math.min(data.length, sent + (1 << 20))), 0, null);
        if (n < 0) break;
        sent += n;
      }
      if (sent === data.length && !shut) {
        shut = true;
        s.shutdown(1);
      }
      for (;;) {
        const n = s.recvfrom(rbuf, 0, null);
        if (n > 0) {
          h.update(rbuf.subarray(0, n));
          continue;
        }
        if (n === 0 && !finished) {
          finished = true;
          onDone(h.digest("hex"));
        }
        if (n !== -Errno.EAGAIN && n !== 0) throw new Error(`recv failed: ${n}`);
        break;
      }
    };
    s.on("readiness", step);
    step();
  };

  return new Promise((resolve) => {
    let forward = "";
    let backward = "";
    const check = () => {
      if (forward !== "" && backward !== "") resolve({ forward, backward });
    };
    l.on("readiness", () => {
      const s = l.accept();
      if (typeof s === "number") return;
      run(s as TcpSocket, (sha) => {
        forward = sha;
        check();
      });
    });
    c.on("readiness", function started() {
      if (c.state !== TcpState.ESTABLISHED) return;
      c.off("readiness", started);
      run(c, (sha) => {
        backward = sha;
        check();
      });
    });
    expect(c.connect({ address: toAddress, port: 5001 })).toBe(-Errno.EINPROGRESS);
  });
}

describe("bulk TCP transfers", () => {
  it("moves 100 MiB each way under 1% loss with reordering and duplication, intact", async () => {
    const keep = setInterval(() => undefined, 1000);
    try {
      pair = stackPair({ mtu: 9000, loss: 0.01, reorder: 0.01, duplicate: 0.01, seed: 42 });
      const data = patternBytes(100 << 20, 7);
      const expected = createHash("sha256").update(data).digest("hex");
      const r = await transfer(pair.a, pair.b, "10.0.0.2", data);
      expect(r.forward).toBe(expected);
      expect(r.backward).toBe(expected);
      // The impairments really happened and were repaired.
      expect(pair.a.counters.tcp.RetransSegs).toBeGreaterThan(50);
      expect(pair.b.counters.tcpExt.TCPOFOQueue).toBeGreaterThan(50);
    } finally {
      clearInterval(keep);
    }
  }, 180_000);

  it("recovers with NewReno without SACK or timestamps", async () => {
    const keep = setInterval(() => undefined, 1000);
    try {
      pair = stackPair({ mtu: 1500, loss: 0.01, reorder: 0.005, duplicate: 0.005, seed: 9 }, { tcp: { sack: false, timestamps: false, windowScaling: false, congestion: "reno" } });
      const data = patternBytes(8 << 20, 13);
      const expected = createHash("sha256").update(data).digest("hex");
      const r = await transfer(pair.a, pair.b, "10.0.0.2", data);
      expect(r.forward).toBe(expected);
      expect(r.backward).toBe(expected);
      expect(pair.a.counters.tcpExt.TCPRenoRecovery).toBeGreaterThan(0);
      expect(pair.a.counters.tcpExt.TCPSackRecovery).toBe(0);
    } finally {
      clearInterval(keep);
    }
  }, 120_000);

  it("moves 64 MiB with a 64 KiB MTU and no loss", async () => {
    pair = stackPair({ mtu: 65536 });
    const data = patternBytes(64 << 20, 3);
    const expected = createHash("sha256").update(data).digest("hex");
    const r = await transfer(pair.a, pair.b, "10.0.0.2", data);
    expect(r.forward).toBe(expected);
    expect(pair.a.counters.tcp.RetransSegs).toBe(0);
  }, 60_000);
});
