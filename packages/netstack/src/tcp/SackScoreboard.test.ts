import { describe, expect, it } from "vitest";
import { SackScoreboard } from "./SackScoreboard";

describe("SackScoreboard", () => {
  it("merges blocks and finds holes", () => {
    const b = new SackScoreboard();
    b.update(Uint32Array.from([300, 400, 100, 200, 180, 250]), 3, 0, 1000);
    expect(b.sackedBytes).toBe(250);
    expect(b.highest(0)).toBe(400);
    expect(b.nextHole(0)).toEqual([0, 100]);
    expect(b.nextHole(100)).toEqual([250, 300]);
    expect(b.nextHole(300)).toBeNull();
    expect(b.holeBytes(0)).toBe(150);
    b.trim(200);
    expect(b.sackedBytes).toBe(150);
  });

  it("ignores blocks outside the window, across sequence wrap", () => {
    const b = new SackScoreboard();
    const una = 0xffffff00;
    b.update(Uint32Array.from([0xffffff80, 0x10, 5, 4]), 2, una, 0x100);
    expect(b.sackedBytes).toBe(0x90);
    b.update(Uint32Array.from([0x200, 0x300]), 1, una, 0x100);
    expect(b.sackedBytes).toBe(0x90);
  });
});
