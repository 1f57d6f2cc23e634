import { describe, expect, it } from "vitest";
import { checksum, pseudoHeaderChecksum } from "./checksum";

// The sum RFC 1071 defines, one 16-bit word at a time, as a reference.
function naive(b: Uint8Array, off: number, len: number): number {
  let sum = 0;
  for (let i = 0; i < len; i += 2) sum += (b[off + i] << 8) | (i + 1 < len ? b[off + i + 1] : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

describe("checksum", () => {
  it("matches the word-by-word sum at every alignment and length", () => {
    const b = new Uint8Array(4096);
    for (let i = 0; i < b.length; i++) b[i] = (i * 131 + 7) & 0xff;
    for (let off = 0; off < 8; off++) {
      for (const len of [0, 1, 2, 3, 5, 8, 63, 64, 65, 1500, 4000]) {
        expect(checksum(b, off, len)).toBe(naive(b, off, len));
      }
    }
  });

  it("matches on a subarray whose byte offset is odd", () => {
    const base = new Uint8Array(2000).map((_, i) => i * 7);
    const view = base.subarray(3);
    expect(checksum(view, 1, 1500)).toBe(naive(view, 1, 1500));
  });

  it("verifies the IPv4 header example of RFC 1071 practice", () => {
    const hdr = Uint8Array.from([0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7]);
    expect(checksum(hdr, 0, 20)).toBe(0xffff);
  });

  it("adds the pseudo-header", () => {
    const src = Uint8Array.from([10, 0, 0, 1]);
    const dst = Uint8Array.from([10, 0, 0, 2]);
    expect(pseudoHeaderChecksum(src, 0, dst, 0, 4, 6, 20)).toBe(naive(Uint8Array.from([10, 0, 0, 1, 10, 0, 0, 2, 0, 6, 0, 20]), 0, 12));
  });
});
