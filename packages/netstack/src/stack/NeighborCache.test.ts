import { describe, expect, it } from "vitest";
import { Counters } from "../Counters";
import { NeighborCache } from "./NeighborCache";

describe("NeighborCache", () => {
  it("queues until resolved, then confirms a stale entry with a unicast probe", async () => {
    const probes: (Uint8Array | null)[] = [];
    const sent: number[] = [];
    const cache = new NeighborCache(
      (_target, mac) => probes.push(mac),
      (_mac, _buf, _off, len) => sent.push(len),
      new Counters(),
      { reachableMs: 20, retransMs: 10 },
    );
    const addr = Uint8Array.from([10, 0, 0, 9]);
    cache.send("10.0.0.9", addr, new Uint8Array(100), 0, 100, null);
    expect(sent).toEqual([]);
    expect(probes).toEqual([null]);
    const mac = Uint8Array.from([2, 0, 0, 0, 0, 9]);
    cache.update("10.0.0.9", addr, mac, false);
    expect(sent).toEqual([100]);

    await new Promise((r) => setTimeout(r, 40));
    cache.send("10.0.0.9", addr, new Uint8Array(50), 0, 50, null);
    expect(sent).toEqual([100, 50]);
    expect(probes[1]).toEqual(mac);
    cache.clear();
  });

  it("gives up after the probes and counts the dropped frames", async () => {
    const counters = new Counters();
    const cache = new NeighborCache(() => undefined, () => undefined, counters, { retransMs: 5, maxProbes: 2 });
    cache.send("10.0.0.8", Uint8Array.from([10, 0, 0, 8]), new Uint8Array(10), 0, 10, null);
    for (let i = 0; i < 500 && counters.neigh.ResolutionFailures === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(counters.neigh.ResolutionFailures).toBe(1);
    expect(counters.neigh.UnresolvedDiscards).toBe(1);
    expect(cache.size).toBe(0);
  });
});
