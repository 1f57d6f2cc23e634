import { describe, expect, it } from "vitest";
import { ByteRing } from "./ByteRing";

describe("ByteRing", () => {
  it("wraps around, grows and keeps order", () => {
    const r = new ByteRing(100, 8);
    const src = Uint8Array.from({ length: 60 }, (_, i) => i);
    expect(r.write(src, 0, 60)).toBe(60);
    r.consume(50);
    expect(r.write(src, 0, 60)).toBe(60);
    expect(r.write(src, 0, 60)).toBe(30);
    expect(r.free).toBe(0);
    const out = new Uint8Array(100);
    r.peek(0, out, 0, 100);
    expect([...out.subarray(0, 10)]).toEqual([50, 51, 52, 53, 54, 55, 56, 57, 58, 59]);
    expect([...out.subarray(10, 13)]).toEqual([0, 1, 2]);
    expect(out[99]).toBe(29);
  });
});
