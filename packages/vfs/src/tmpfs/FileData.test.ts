import { Errno, SyscallError } from "@sandbox/abi";
import { describe, expect, it } from "vitest";
import { SEEK_DATA, SEEK_HOLE } from "../constants";
import { FileData, PAGE_SIZE } from "./FileData";

function errnoOf(call: () => unknown): number | undefined {
  try {
    call();
    return undefined;
  } catch (error) {
    if (error instanceof SyscallError) {
      return error.errno;
    }
    throw error;
  }
}

describe("FileData", () => {
  it("reads back writes that span pages", () => {
    const data = new FileData();
    const source = Uint8Array.from({ length: 3 * PAGE_SIZE }, (_, i) => i % 251);
    data.write(source, 100);
    expect(data.size).toBe(100 + source.length);
    expect(data.allocatedPages).toBe(4);

    const target = new Uint8Array(source.length + 200);
    expect(data.read(target, 0)).toBe(100 + source.length);
    expect(target.subarray(0, 100).every((byte) => byte === 0)).toBe(true);
    expect(Buffer.compare(target.subarray(100, 100 + source.length), source)).toBe(0);
    expect(data.read(target, data.size)).toBe(0);
    expect(data.read(target, data.size + 10)).toBe(0);
  });

  it("keeps holes free and reads them as zeros", () => {
    const data = new FileData();
    data.truncate(2 ** 40);
    expect(data.size).toBe(2 ** 40);
    expect(data.allocatedPages).toBe(0);
    data.write(Uint8Array.of(1, 2, 3), 2 ** 39);
    expect(data.allocatedPages).toBe(1);
    const target = new Uint8Array(8).fill(9);
    expect(data.read(target, 2 ** 39 - 4)).toBe(8);
    expect([...target]).toEqual([0, 0, 0, 0, 1, 2, 3, 0]);
  });

  it("zeroes the tail when shrinking", () => {
    const data = new FileData();
    data.write(new Uint8Array(PAGE_SIZE * 2).fill(7), 0);
    data.truncate(10);
    expect(data.allocatedPages).toBe(1);
    data.truncate(PAGE_SIZE * 2);
    const target = new Uint8Array(PAGE_SIZE * 2);
    data.read(target, 0);
    expect(target.subarray(0, 10).every((byte) => byte === 7)).toBe(true);
    expect(target.subarray(10).every((byte) => byte === 0)).toBe(true);
    data.truncate(PAGE_SIZE);
    data.truncate(0);
    expect(data.allocatedPages).toBe(0);
  });

  it("finds data and holes", () => {
    const data = new FileData();
    data.write(Uint8Array.of(1), PAGE_SIZE * 2 + 5);
    data.write(Uint8Array.of(1), PAGE_SIZE * 5);
    data.truncate(PAGE_SIZE * 8);
    expect(data.seekHole(0, SEEK_DATA)).toBe(PAGE_SIZE * 2);
    expect(data.seekHole(PAGE_SIZE * 2 + 100, SEEK_DATA)).toBe(PAGE_SIZE * 2 + 100);
    expect(data.seekHole(PAGE_SIZE * 3, SEEK_DATA)).toBe(PAGE_SIZE * 5);
    expect(errnoOf(() => data.seekHole(PAGE_SIZE * 6, SEEK_DATA))).toBe(Errno.ENXIO);
    expect(data.seekHole(0, SEEK_HOLE)).toBe(0);
    expect(data.seekHole(PAGE_SIZE * 2, SEEK_HOLE)).toBe(PAGE_SIZE * 3);
    expect(data.seekHole(PAGE_SIZE * 6, SEEK_HOLE)).toBe(PAGE_SIZE * 6);
    expect(errnoOf(() => data.seekHole(PAGE_SIZE * 8, SEEK_HOLE))).toBe(Errno.ENXIO);
  });

  it("rejects sizes past 2^53", () => {
    const data = new FileData();
    expect(errnoOf(() => data.write(Uint8Array.of(1), Number.MAX_SAFE_INTEGER))).toBe(Errno.EFBIG);
    expect(errnoOf(() => data.truncate(2 ** 60))).toBe(Errno.EFBIG);
  });
});
