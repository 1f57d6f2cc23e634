import { describe, expect, it } from "vitest";
import { OutOfOrderQueue } from "./OutOfOrderQueue";

describe("OutOfOrderQueue", () => {
  it("trims overlaps and drains in order", () => {
    const q = new OutOfOrderQueue();
    const bytes = (from: number, n: number) => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);
    q.insert(20, bytes(20, 10));
    q.insert(25, bytes(25, 10));
    q.insert(50, bytes(50, 5));
    expect(q.sackBlocks(3)).toEqual([50, 55, 20, 35]);
    const out: number[] = [];
    const next = q.drain(10, () => 0);
    expect(next).toBe(10);
    const after = q.drain(20, (d, at, n) => {
      out.push(...d.subarray(at, at + n));
      return n;
    });
    expect(after).toBe(35);
    expect(out).toEqual([...bytes(20, 15)]);
    expect(q.length).toBe(1);
  });

  it("refuses blocks beyond its limit", () => {
    const q = new OutOfOrderQueue(2);
    expect(q.insert(10, new Uint8Array(1))).toBe(true);
    expect(q.insert(20, new Uint8Array(1))).toBe(true);
    expect(q.insert(30, new Uint8Array(1))).toBe(false);
  });
});
