import { describe, expect, it } from "vitest";
import { formatIPv6, linkLocalFromMac, parseAddress, parseIPv4, parseIPv6, solicitedNodeAddress } from "./address";

describe("addresses", () => {
  it("parses and formats IPv4", () => {
    expect([...(parseIPv4("192.0.2.33") as Uint8Array)]).toEqual([192, 0, 2, 33]);
    expect(parseIPv4("256.0.0.1")).toBeNull();
    expect(parseIPv4("1.2.3")).toBeNull();
  });

  it("formats IPv6 in the RFC 5952 form", () => {
    const cases = ["::", "::1", "fe80::1", "2001:db8::1:0:0:1", "2001:db8:0:1:1:1:1:1", "fd00:200::2"];
    for (const c of cases) expect(formatIPv6(parseIPv6(c) as Uint8Array, 0)).toBe(c);
    expect(formatIPv6(parseIPv6("2001:0db8:0000:0000:0000:0000:0002:0001") as Uint8Array, 0)).toBe("2001:db8::2:1");
    expect(formatIPv6(parseIPv6("::ffff:10.0.0.1") as Uint8Array, 0)).toBe("::ffff:a00:1");
    expect(parseIPv6("1::2::3")).toBeNull();
    expect(parseAddress("nonsense")).toBeNull();
  });

  it("derives link-local and solicited-node addresses", () => {
    const ll = linkLocalFromMac(Uint8Array.from([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]));
    expect(formatIPv6(ll, 0)).toBe("fe80::11:22ff:fe33:4455");
    expect(formatIPv6(solicitedNodeAddress(ll), 0)).toBe("ff02::1:ff33:4455");
  });
});
