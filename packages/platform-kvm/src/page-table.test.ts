import { Prot } from "@sandbox/platform";
import { describe, expect, it } from "vitest";
import { GuestMemory, PAGE_SIZE } from "./guest-memory";
import { PageTable } from "./page-table";

const GPA_BASE = 64 * 2 ** 30;

function setUp(pages = 64): { memory: GuestMemory; table: PageTable; shared: number } {
  const memory = new GuestMemory(new Uint8Array(pages * PAGE_SIZE), GPA_BASE);
  const shared = memory.allocate();
  return { memory, table: new PageTable(memory, { index: 255, table: shared }), shared };
}

/** Reads the raw 64-bit entry `index` of table page `page`. */
function entry(memory: GuestMemory, page: number, index: number): bigint {
  return memory.view.getBigUint64(page * PAGE_SIZE + index * 8, true);
}

describe("PageTable", () => {
  it("links the shared top entry", () => {
    const { memory, table, shared } = setUp();
    expect(entry(memory, table.root, 255)).toBe(BigInt(memory.gpaOf(shared)) | 7n);
    expect(table.cr3).toBe(memory.gpaOf(table.root));
  });

  it("writes user, writable and NX bits", () => {
    const { table } = setUp();
    table.map(0x40_0000, 2 * PAGE_SIZE, 0x1000, Prot.Read | Prot.Exec);
    table.map(0x60_0000, PAGE_SIZE, 0x5_0000_0000, Prot.Read | Prot.Write);
    expect(table.translate(0x40_0000)).toEqual({ gpa: 0x1000, prot: Prot.Read | Prot.Exec });
    expect(table.translate(0x40_1234)).toEqual({ gpa: 0x2234, prot: Prot.Read | Prot.Exec });
    expect(table.translate(0x60_0008)).toEqual({ gpa: 0x5_0000_0008, prot: Prot.Read | Prot.Write });
    expect(table.translate(0x40_2000)).toBeUndefined();
  });

  it("maps near the user range top", () => {
    const { table } = setUp();
    const va = 0x7f7f_ffff_f000;
    table.map(va, PAGE_SIZE, 0x3000, Prot.Read);
    expect(table.translate(va)).toEqual({ gpa: 0x3000, prot: Prot.Read });
  });

  it("requests a flush on downgrades only", () => {
    const { table } = setUp();
    table.map(0x40_0000, PAGE_SIZE, 0x1000, Prot.Read);
    expect(table.needsFlush).toBe(false);
    table.protect(0x40_0000, PAGE_SIZE, Prot.Read | Prot.Write);
    expect(table.needsFlush).toBe(false);
    table.protect(0x40_0000, PAGE_SIZE, Prot.Read);
    expect(table.needsFlush).toBe(true);
    table.needsFlush = false;
    table.map(0x40_0000, PAGE_SIZE, 0x2000, Prot.Read);
    expect(table.needsFlush).toBe(true);
    table.needsFlush = false;
    table.unmap(0x40_0000, PAGE_SIZE);
    expect(table.needsFlush).toBe(true);
    table.needsFlush = false;
    table.unmap(0x40_0000, PAGE_SIZE);
    expect(table.needsFlush).toBe(false);
  });

  it("restores PROT_NONE pages on protect", () => {
    const { table } = setUp();
    table.map(0x40_0000, PAGE_SIZE, 0x7000, Prot.None);
    expect(table.translate(0x40_0000)).toBeUndefined();
    expect(table.isProtNone(0x40_0000)).toBe(true);
    table.protect(0x40_0000, PAGE_SIZE, Prot.Read);
    expect(table.translate(0x40_0000)).toEqual({ gpa: 0x7000, prot: Prot.Read });
    expect(table.isProtNone(0x40_0000)).toBe(false);
  });

  it("ignores protect on unmapped pages", () => {
    const { table } = setUp();
    table.protect(0x40_0000, 4 * PAGE_SIZE, Prot.Read);
    expect(table.translate(0x40_0000)).toBeUndefined();
  });

  it("frees table pages on release", () => {
    const { memory, table } = setUp(8);
    table.map(0x40_0000, PAGE_SIZE, 0x1000, Prot.Read);
    table.release();
    const again = new PageTable(memory, { index: 255, table: 0 });
    again.map(0x40_0000, PAGE_SIZE, 0x1000, Prot.Read);
    expect(again.translate(0x40_0000)?.gpa).toBe(0x1000);
  });

  it("reports full table memory", () => {
    const { table } = setUp(3);
    expect(() => table.map(0x40_0000, PAGE_SIZE, 0, Prot.Read)).toThrow(/page-table memory \(3 pages\) is full/);
  });
});
