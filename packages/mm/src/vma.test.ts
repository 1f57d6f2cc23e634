import { describe, expect, it } from "vitest";
import { PROT_READ, PROT_WRITE } from "./flags";
import type { Mappable } from "./mappable";
import { Vma } from "./vma";

const RW = PROT_READ | PROT_WRITE;

describe("Vma", () => {
  const file: Mappable = { name: "/lib/libc.so.6", readAt: () => 0 };

  it("maps addresses to file offsets", () => {
    const vma = new Vma(0x10000, 0x20000, PROT_READ, 7, false, false, file, 0x3000, null);
    expect(vma.offsetOf(0x11000)).toBe(0x4000);
    expect(vma.anonymous).toBe(false);
    expect(vma.slice(0x18000, 0x20000).offset).toBe(0xb000);
  });

  it("describes itself for /proc/PID/maps", () => {
    const vma = new Vma(0x10000, 0x20000, PROT_READ, 7, false, false, file, 0x3000, null);
    expect(vma.info()).toEqual({
      start: 0x10000,
      end: 0x20000,
      prot: PROT_READ,
      shared: false,
      offset: 0x3000,
      name: "/lib/libc.so.6",
      growsDown: false,
      mappable: file,
    });
    const heap = new Vma(0x10000, 0x20000, RW, 7, false, false, null, 0, "[heap]");
    expect(heap.info()).toMatchObject({ name: "[heap]", offset: 0 });
  });

  it("merges only identical neighbours", () => {
    const left = new Vma(0x10000, 0x20000, RW, 7, false, false, null, 0, null);
    const right = new Vma(0x20000, 0x30000, RW, 7, false, false, null, 0, null);
    expect(left.canMerge(right)).toBe(true);
    right.dontFork = true;
    expect(left.canMerge(right)).toBe(false);
    const gap = new Vma(0x21000, 0x30000, RW, 7, false, false, null, 0, null);
    expect(left.canMerge(gap)).toBe(false);
    const fileLeft = new Vma(0x10000, 0x20000, RW, 7, false, false, file, 0, null);
    const fileRight = new Vma(0x20000, 0x30000, RW, 7, false, false, file, 0x20000, null);
    expect(fileLeft.canMerge(fileRight)).toBe(false);
    fileRight.offset = 0x10000;
    expect(fileLeft.canMerge(fileRight)).toBe(true);
  });
});
