import { describe, expect, it } from "vitest";
import { optionsLength, TcpOptions, writeOptions } from "./options";

describe("TCP options", () => {
  it("round-trips the SYN options", () => {
    const o = { mss: 1460, wscale: 7, sackPermitted: true, timestamp: true, tsVal: 123, tsEcr: 0, sack: [] };
    const buf = new Uint8Array(40);
    const n = writeOptions(buf, 0, o);
    expect(n).toBe(optionsLength(o));
    const p = new TcpOptions();
    expect(p.parse(buf, 0, n, true)).toBe(true);
    expect([p.mss, p.wscale, p.sackPermitted, p.hasTimestamp, p.tsVal]).toEqual([1460, 7, true, true, 123]);
  });

  it("rejects lists that run past the header and clamps the window scale", () => {
    const p = new TcpOptions();
    expect(p.parse(Uint8Array.from([2, 0]), 0, 2, true)).toBe(false);
    expect(p.parse(Uint8Array.from([8, 10, 1]), 0, 3, false)).toBe(false);
    expect(p.parse(Uint8Array.from([3, 3, 99, 0]), 0, 4, true)).toBe(true);
    expect(p.wscale).toBe(14);
    expect(p.parse(Uint8Array.from([2, 3, 1, 0]), 0, 4, true)).toBe(true);
    expect(p.badLength).toBe(1);
  });
});
