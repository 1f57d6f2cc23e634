import { describe, expect, it } from "vitest";
import {
  DIRENT64_INO,
  DIRENT64_NAME,
  DIRENT64_OFF,
  DIRENT64_RECLEN,
  DIRENT64_TYPE,
  dirent64Length,
  writeDirent64,
} from "./dirent";

describe("linux_dirent64", () => {
  it("pads records to 8 bytes after the NUL", () => {
    expect(dirent64Length(0)).toBe(24);
    expect(dirent64Length(4)).toBe(24);
    expect(dirent64Length(5)).toBe(32);
    expect(dirent64Length(255)).toBe(280);
  });

  it("writes every field at its offset", () => {
    const buffer = new Uint8Array(64).fill(0xee);
    const view = new DataView(buffer.buffer);
    const length = writeDirent64(view, 8, 2 ** 40 + 5, 7, 4, "ab\xff");
    expect(length).toBe(24);
    expect(view.getBigUint64(8 + DIRENT64_INO, true)).toBe(2n ** 40n + 5n);
    expect(view.getBigInt64(8 + DIRENT64_OFF, true)).toBe(7n);
    expect(view.getUint16(8 + DIRENT64_RECLEN, true)).toBe(24);
    expect(view.getUint8(8 + DIRENT64_TYPE)).toBe(4);
    expect([...buffer.subarray(8 + DIRENT64_NAME, 8 + 24)]).toEqual([0x61, 0x62, 0xff, 0, 0]);
    expect(buffer[7]).toBe(0xee);
    expect(buffer[32]).toBe(0xee);
  });

  it("writes nothing when the record does not fit", () => {
    const buffer = new Uint8Array(30).fill(0xee);
    expect(writeDirent64(new DataView(buffer.buffer), 8, 1, 1, 8, "name")).toBe(0);
    expect(buffer.every((byte) => byte === 0xee)).toBe(true);
  });
});
