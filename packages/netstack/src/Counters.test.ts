import { describe, expect, it } from "vitest";
import { Counters } from "./Counters";

describe("Counters", () => {
  it("formats groups as /proc/net/snmp does", () => {
    const c = new Counters();
    c.tcp.InSegs = 5;
    c.drop("tcp-bad-checksum");
    c.drop("tcp-bad-checksum");
    const text = c.format();
    expect(text).toContain("Tcp: ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs");
    expect(text).toContain("Tcp: 0 0 0 0 0 5 ");
    expect(text).toContain("Drops: tcp-bad-checksum\nDrops: 2\n");
    expect(c.totalDrops()).toBe(2);
    expect(c.snapshot().Tcp.InSegs).toBe(5);
  });
});
