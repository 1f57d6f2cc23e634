import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RecordingAddressSpace } from "../test/recording-address-space";
import { FaultCode, FaultHandler, allows, effectiveProt } from "./fault-handler";
import { PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE } from "./flags";
import { MemoryFile } from "./memory-file";
import { PageAllocator } from "./page-allocator";
import { PmaSet } from "./pma-set";
import { Vma } from "./vma";
import { VmaSet } from "./vma-set";

const PAGE = PAGE_SIZE;
const RW = PROT_READ | PROT_WRITE;

describe("FaultHandler", () => {
  let file: MemoryFile;
  let as: RecordingAddressSpace;
  let vmas: VmaSet;
  let pmas: PmaSet;
  let handler: FaultHandler;
  const limits = { stackLimit: 64 * PAGE };

  beforeEach(() => {
    file = MemoryFile.create("mm-fault-test");
    const allocator = new PageAllocator(file);
    as = new RecordingAddressSpace();
    vmas = new VmaSet();
    pmas = new PmaSet(as, allocator);
    handler = new FaultHandler(vmas, pmas, allocator, file, 0x10000, [{ start: 0x100000, end: 0x110000 }], limits);
  });

  afterEach(() => {
    pmas.clear();
    file.close();
  });

  it("fills only holes around the page", () => {
    vmas.insert(new Vma(0x200000, 0x400000, RW, 7, false, false, null, 0, null));
    expect(handler.fault(0x300000, PROT_WRITE)).toBe(FaultCode.Ok);
    pmas.remove(0x280000, 0x290000);
    as.takeCalls();
    expect(handler.fault(0x200000, PROT_READ)).toBe(FaultCode.Ok);
    expect(as.takeCalls()).toEqual([]);
    expect(handler.fault(0x285000, PROT_READ)).toBe(FaultCode.Ok);
    expect(as.takeCalls()).toEqual([
      { op: "mapFile", addr: 0x280000, length: 0x10000, offset: expect.any(Number), prot: RW },
    ]);
  });

  it("populates a range and reports the first failure", () => {
    vmas.insert(new Vma(0x200000, 0x204000, PROT_READ, 7, false, false, null, 0, null));
    expect(handler.populate(0x200000, 0x204000, PROT_READ)).toBe(FaultCode.Ok);
    expect(handler.populate(0x200000, 0x204000, PROT_WRITE)).toBe(FaultCode.AccessError);
    expect(handler.populate(0x200000, 0x206000, PROT_READ)).toBe(FaultCode.MapError);
  });

  it("does not grow a stack into reserved ranges", () => {
    vmas.insert(new Vma(0x112000, 0x114000, RW, 7, false, true, null, 0, "[stack]"));
    expect(handler.fault(0x111000, PROT_WRITE)).toBe(FaultCode.Ok);
    expect(handler.fault(0x10f000, PROT_WRITE)).toBe(FaultCode.MapError);
  });

  it("limits stack growth to stackLimit", () => {
    vmas.insert(new Vma(0x7f0000000000 - PAGE, 0x7f0000000000, RW, 7, false, true, null, 0, "[stack]"));
    expect(handler.fault(0x7f0000000000 - 64 * PAGE, PROT_WRITE)).toBe(FaultCode.Ok);
    expect(handler.fault(0x7f0000000000 - 65 * PAGE, PROT_WRITE)).toBe(FaultCode.MapError);
    limits.stackLimit = 128 * PAGE;
    expect(handler.fault(0x7f0000000000 - 65 * PAGE, PROT_WRITE)).toBe(FaultCode.Ok);
  });
});

describe("x86 protection rules", () => {
  it("lets write and execute imply read", () => {
    expect(effectiveProt(PROT_WRITE)).toBe(RW);
    expect(effectiveProt(PROT_EXEC)).toBe(PROT_EXEC | PROT_READ);
    expect(effectiveProt(0)).toBe(0);
    expect(allows(PROT_READ, PROT_WRITE)).toBe(false);
    expect(allows(PROT_WRITE, PROT_READ)).toBe(true);
  });
});
