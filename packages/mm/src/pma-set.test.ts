import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RecordingAddressSpace } from "../test/recording-address-space";
import { PAGE_SIZE, PROT_READ, PROT_WRITE } from "./flags";
import { MemoryFile } from "./memory-file";
import { PageAllocator } from "./page-allocator";
import { PmaSet } from "./pma-set";

const PAGE = PAGE_SIZE;
const RW = PROT_READ | PROT_WRITE;

describe("PmaSet", () => {
  let file: MemoryFile;
  let allocator: PageAllocator;
  let as: RecordingAddressSpace;
  let pmas: PmaSet;

  beforeEach(() => {
    file = MemoryFile.create("mm-pma-test");
    allocator = new PageAllocator(file);
    as = new RecordingAddressSpace();
    pmas = new PmaSet(as, allocator);
  });

  afterEach(() => {
    file.close();
  });

  it("installs and merges contiguous pages", () => {
    const offset = allocator.allocate(4 * PAGE);
    allocator.decRef(offset, 4 * PAGE);
    const first = allocator.allocate(2 * PAGE);
    const second = allocator.allocate(2 * PAGE);
    pmas.install(0x10000, 0x12000, first, RW, true, false);
    pmas.install(0x12000, 0x14000, second, RW, true, false);
    expect(pmas.size).toBe(1);
    expect(as.takeCalls()).toEqual([
      { op: "mapFile", addr: 0x10000, length: 2 * PAGE, offset: first, prot: RW },
      { op: "mapFile", addr: 0x12000, length: 2 * PAGE, offset: second, prot: RW },
    ]);
    expect(pmas.holes(0xf000, 0x15000)).toEqual([0xf000, 0x10000, 0x14000, 0x15000]);
  });

  it("installs copy-on-write pages without write", () => {
    const offset = allocator.allocate(PAGE);
    pmas.install(0x10000, 0x11000, offset, RW, true, true);
    expect(as.page(0x10000)).toEqual({ offset, prot: PROT_READ });
    expect(() => pmas.install(0x10000, 0x11000, offset, RW, true, true)).toThrow(/overlaps/);
  });

  it("protects only changed runs", () => {
    const offset = allocator.allocate(4 * PAGE);
    pmas.install(0x10000, 0x14000, offset, RW, true, false);
    as.takeCalls();
    pmas.protect(0x11000, 0x13000, PROT_READ);
    pmas.protect(0x11000, 0x13000, PROT_READ);
    expect(as.takeCalls()).toEqual([{ op: "protect", addr: 0x11000, length: 2 * PAGE, prot: PROT_READ }]);
    expect(pmas.size).toBe(3);
    pmas.protect(0x10000, 0x14000, RW);
    expect(pmas.size).toBe(1);
  });

  it("removes pages and drops references", () => {
    const offset = allocator.allocate(4 * PAGE);
    pmas.install(0x10000, 0x14000, offset, RW, true, false);
    as.takeCalls();
    pmas.remove(0x11000, 0x12000);
    expect(as.takeCalls()).toEqual([{ op: "unmap", addr: 0x11000, length: PAGE }]);
    expect(allocator.refCount(offset + PAGE)).toBe(0);
    expect(allocator.refCount(offset)).toBe(1);
    pmas.clear();
    expect(allocator.usedBytes).toBe(0);
  });

  it("moves pages with their references", () => {
    const offset = allocator.allocate(2 * PAGE);
    pmas.install(0x10000, 0x12000, offset, RW, true, false);
    as.takeCalls();
    pmas.move(0x10000, 0x12000, 0x100000);
    expect(as.takeCalls()).toEqual([
      { op: "unmap", addr: 0x10000, length: 2 * PAGE },
      { op: "mapFile", addr: 0x110000, length: 2 * PAGE, offset, prot: RW },
    ]);
    expect(allocator.refCount(offset)).toBe(1);
  });

  it("marks private pages copy-on-write", () => {
    const privateOffset = allocator.allocate(PAGE);
    const sharedOffset = allocator.allocate(PAGE);
    pmas.install(0x10000, 0x11000, privateOffset, RW, true, false);
    pmas.install(0x11000, 0x12000, sharedOffset, RW, false, false);
    as.takeCalls();
    pmas.markCopyOnWrite(0x10000, 0x12000);
    expect(as.takeCalls()).toEqual([{ op: "protect", addr: 0x10000, length: PAGE, prot: PROT_READ }]);
    expect(pmas.find(0x10000)?.needCOW).toBe(true);
    expect(pmas.find(0x11000)?.needCOW).toBe(false);
  });
});
