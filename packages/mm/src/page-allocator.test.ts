import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PAGE_SIZE } from "./flags";
import { MemoryFile } from "./memory-file";
import { PageAllocator } from "./page-allocator";

const PAGE = PAGE_SIZE;

describe("PageAllocator", () => {
  let file: MemoryFile;
  let allocator: PageAllocator;

  beforeEach(() => {
    file = MemoryFile.create("mm-allocator-test");
    allocator = new PageAllocator(file, { growStep: 64 * PAGE });
  });

  afterEach(() => {
    file.close();
  });

  it("grows the file in steps", () => {
    const offset = allocator.allocate(2 * PAGE);
    expect(offset).toBe(0);
    expect(file.size).toBe(64 * PAGE);
    expect(allocator.usedBytes).toBe(2 * PAGE);

    const big = allocator.allocate(100 * PAGE);
    expect(big).toBe(2 * PAGE);
    expect(file.size).toBe(128 * PAGE);
  });

  it("hands out disjoint ranges", () => {
    const a = allocator.allocate(3 * PAGE);
    const b = allocator.allocate(PAGE);
    const c = allocator.allocate(5 * PAGE);
    expect(b).toBeGreaterThanOrEqual(a + 3 * PAGE);
    expect(c).toBeGreaterThanOrEqual(b + PAGE);
  });

  it("counts references per page", () => {
    const offset = allocator.allocate(4 * PAGE);
    allocator.incRef(offset + PAGE, 2 * PAGE);
    expect(allocator.refCount(offset)).toBe(1);
    expect(allocator.refCount(offset + PAGE)).toBe(2);
    expect(allocator.refCount(offset + 2 * PAGE)).toBe(2);
    expect(allocator.isExclusive(offset, PAGE)).toBe(true);
    expect(allocator.isExclusive(offset, 2 * PAGE)).toBe(false);

    allocator.decRef(offset, 4 * PAGE);
    expect(allocator.refCount(offset)).toBe(0);
    expect(allocator.refCount(offset + PAGE)).toBe(1);
    expect(allocator.refCount(offset + 3 * PAGE)).toBe(0);
    expect(allocator.usedBytes).toBe(2 * PAGE);
  });

  it("punches holes for freed pages", () => {
    const offset = allocator.allocate(8 * PAGE);
    file.write(offset, new Uint8Array(8 * PAGE).fill(0xaa));
    expect(file.allocatedBytes()).toBe(8 * PAGE);

    allocator.decRef(offset + 2 * PAGE, 3 * PAGE);
    expect(file.allocatedBytes()).toBe(5 * PAGE);
  });

  it("reuses freed pages zero-filled", () => {
    const a = allocator.allocate(4 * PAGE);
    allocator.allocate(PAGE);
    file.write(a, new Uint8Array(4 * PAGE).fill(0x55));
    allocator.decRef(a, 4 * PAGE);

    const again = allocator.allocate(2 * PAGE);
    expect(again).toBe(a);
    const back = new Uint8Array(2 * PAGE);
    file.read(again, back);
    expect(back.every((byte) => byte === 0)).toBe(true);
  });

  it("coalesces neighbouring free extents", () => {
    const a = allocator.allocate(PAGE);
    const b = allocator.allocate(PAGE);
    const c = allocator.allocate(PAGE);
    allocator.allocate(PAGE);
    allocator.decRef(a, PAGE);
    allocator.decRef(c, PAGE);
    expect(allocator.freeExtentCount).toBe(2);

    allocator.decRef(b, PAGE);
    expect(allocator.freeExtentCount).toBe(1);
    expect(allocator.allocate(3 * PAGE)).toBe(a);
  });

  it("lowers the high-water mark on free", () => {
    allocator.allocate(PAGE);
    const b = allocator.allocate(2 * PAGE);
    allocator.decRef(b, 2 * PAGE);
    expect(allocator.freeExtentCount).toBe(0);
    expect(allocator.allocate(PAGE)).toBe(b);
  });

  it("rejects invalid and double frees", () => {
    const offset = allocator.allocate(PAGE);
    expect(() => allocator.allocate(0)).toThrow(RangeError);
    expect(() => allocator.allocate(100)).toThrow(RangeError);
    expect(() => allocator.incRef(offset + 1, PAGE)).toThrow(RangeError);
    allocator.decRef(offset, PAGE);
    expect(() => allocator.decRef(offset, PAGE)).toThrow(/not allocated/);
    expect(() => allocator.incRef(offset, PAGE)).toThrow(/not allocated/);
  });

  it("discards old contents of a reused file", () => {
    allocator.allocate(PAGE);
    file.write(0, Uint8Array.of(9));
    const second = new PageAllocator(file);
    const offset = second.allocate(PAGE);
    const back = new Uint8Array(1);
    file.read(offset, back);
    expect(back[0]).toBe(0);
  });
});
