import { describe, expect, it } from "vitest";
import { PAGE_SIZE, PROT_READ, PROT_WRITE } from "./flags";
import type { Mappable } from "./mappable";
import { Vma } from "./vma";
import { STACK_GUARD_GAP, VmaSet } from "./vma-set";

const PAGE = PAGE_SIZE;
const RW = PROT_READ | PROT_WRITE;

function anonymous(start: number, end: number, prot = RW): Vma {
  return new Vma(start, end, prot, 7, false, false, null, 0, null);
}

function ranges(set: VmaSet): number[][] {
  return set.all.map((vma) => [vma.start / PAGE, vma.end / PAGE]);
}

class CountingFile implements Mappable {
  mappings = 0;
  readAt(): number {
    return 0;
  }
  addMapping(): void {
    this.mappings++;
  }
  removeMapping(): void {
    this.mappings--;
  }
}

describe("VmaSet", () => {
  it("finds VMAs by address", () => {
    const set = new VmaSet();
    set.insert(anonymous(10 * PAGE, 20 * PAGE));
    set.insert(anonymous(2 * PAGE, 4 * PAGE));
    expect(set.find(3 * PAGE)?.start).toBe(2 * PAGE);
    expect(set.find(4 * PAGE)).toBeUndefined();
    expect(set.find(20 * PAGE - 1)?.start).toBe(10 * PAGE);
    expect(set.isFree(4 * PAGE, 10 * PAGE)).toBe(true);
    expect(set.isFree(4 * PAGE, 11 * PAGE)).toBe(false);
    expect(() => set.insert(anonymous(3 * PAGE, 5 * PAGE))).toThrow(/overlaps/);
  });

  it("splits and removes ranges", () => {
    const set = new VmaSet();
    set.insert(anonymous(0, 10 * PAGE));
    const removed = set.remove(3 * PAGE, 5 * PAGE);
    expect(removed.map((vma) => [vma.start / PAGE, vma.end / PAGE])).toEqual([[3, 5]]);
    expect(ranges(set)).toEqual([
      [0, 3],
      [5, 10],
    ]);
  });

  it("merges compatible neighbours only", () => {
    const set = new VmaSet();
    set.insert(anonymous(0, PAGE));
    set.insert(anonymous(PAGE, 2 * PAGE));
    set.insert(anonymous(2 * PAGE, 3 * PAGE, PROT_READ));
    set.insert(anonymous(3 * PAGE, 4 * PAGE));
    set.mergeAround(0, 4 * PAGE);
    expect(ranges(set)).toEqual([
      [0, 2],
      [2, 3],
      [3, 4],
    ]);
  });

  it("merges file VMAs only at contiguous offsets", () => {
    const file = new CountingFile();
    const set = new VmaSet();
    const first = new Vma(0, PAGE, RW, 7, true, false, file, 0, null);
    const second = new Vma(PAGE, 2 * PAGE, RW, 7, true, false, file, PAGE, null);
    const third = new Vma(2 * PAGE, 3 * PAGE, RW, 7, true, false, file, 5 * PAGE, null);
    file.mappings = 3;
    set.insert(first);
    set.insert(second);
    set.insert(third);
    set.mergeAround(0, 3 * PAGE);
    expect(ranges(set)).toEqual([
      [0, 2],
      [2, 3],
    ]);
    expect(file.mappings).toBe(2);
    set.splitAt(PAGE);
    expect(file.mappings).toBe(3);
    expect(set.find(PAGE)?.offset).toBe(PAGE);
  });

  it("finds the highest gap top-down", () => {
    const set = new VmaSet();
    set.insert(anonymous(90 * PAGE, 100 * PAGE));
    set.insert(anonymous(85 * PAGE, 88 * PAGE));
    expect(set.findGapTopDown(2 * PAGE, 0, 100 * PAGE, [])).toBe(88 * PAGE);
    expect(set.findGapTopDown(3 * PAGE, 0, 100 * PAGE, [])).toBe(82 * PAGE);
    expect(set.findGapTopDown(PAGE, 0, 95 * PAGE, [])).toBe(89 * PAGE);
    expect(set.findGapTopDown(200 * PAGE, 0, 100 * PAGE, [])).toBe(-1);
    expect(set.findGapTopDown(PAGE, 86 * PAGE, 90 * PAGE, [])).toBe(89 * PAGE);
  });

  it("skips reserved ranges", () => {
    const set = new VmaSet();
    const reserved = [
      { start: 40 * PAGE, end: 50 * PAGE },
      { start: 60 * PAGE, end: 99 * PAGE },
    ];
    expect(set.findGapTopDown(PAGE, 0, 100 * PAGE, reserved)).toBe(99 * PAGE);
    expect(set.findGapTopDown(5 * PAGE, 0, 100 * PAGE, reserved)).toBe(55 * PAGE);
    expect(set.findGapTopDown(11 * PAGE, 0, 100 * PAGE, reserved)).toBe(29 * PAGE);
  });

  it("keeps the guard gap below a stack", () => {
    const set = new VmaSet();
    const top = 4096 * PAGE;
    const stack = new Vma(top - 8 * PAGE, top, RW, 7, false, true, null, 0, "[stack]");
    set.insert(stack);
    expect(set.findGapTopDown(PAGE, 0, top, [])).toBe(top - 8 * PAGE - STACK_GUARD_GAP - PAGE);
    expect(set.isFreeWithGuard(top - 9 * PAGE, top - 8 * PAGE)).toBe(false);
    expect(set.isFree(top - 9 * PAGE, top - 8 * PAGE)).toBe(true);
  });
});
