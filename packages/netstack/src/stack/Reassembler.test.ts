import { describe, expect, it } from "vitest";
import { Reassembler, type ReassemblyDrop } from "./Reassembler";

function make(drops: ReassemblyDrop[], maxBytes = 4 << 20): Reassembler {
  return new Reassembler(() => undefined, (r) => drops.push(r), 30_000, maxBytes);
}

describe("Reassembler", () => {
  it("reassembles fragments in any order and ignores exact duplicates", () => {
    const drops: ReassemblyDrop[] = [];
    const r = make(drops);
    const data = Uint8Array.from({ length: 24 }, (_, i) => i);
    expect(r.add("k", 16, data, 16, 8, false, null, null)).toBeNull();
    expect(r.add("k", 0, data, 0, 8, true, null, null)).toBeNull();
    expect(r.add("k", 0, data, 0, 8, true, null, null)).toBeNull();
    const whole = r.add("k", 8, data, 8, 8, true, null, null);
    expect(whole).toEqual(data);
    expect(drops).toEqual([]);
    expect(r.bytesHeld).toBe(0);
    r.clear();
  });

  it("drops overlapping fragments and bounds memory", () => {
    const drops: ReassemblyDrop[] = [];
    const r = make(drops, 64);
    const data = new Uint8Array(64);
    r.add("a", 0, data, 0, 16, true, null, null);
    expect(r.add("a", 8, data, 0, 16, true, null, null)).toBeNull();
    expect(drops).toEqual(["overlap"]);
    r.add("b", 0, data, 0, 48, true, null, null);
    r.add("c", 0, data, 0, 32, true, null, null);
    expect(r.bytesHeld).toBeLessThanOrEqual(64);
    expect(drops).toContain("memory");
    r.clear();
  });
});
