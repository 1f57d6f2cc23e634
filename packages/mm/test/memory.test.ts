import { readSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  MADV_DONTNEED,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  MREMAP_MAYMOVE,
  PROT_READ,
  PROT_WRITE,
} from "../src/flags";
import { MemoryManager } from "../src/memory-manager";
import { type Fixture, MemfdFile, MiB, PAGE, USER_END, USER_START, makeFixture } from "./fixture";
import { RecordingAddressSpace } from "./recording-address-space";

// These tests check mm against the real memfd: what the host would see
// through its MAP_SHARED mappings, and how much host memory is in use.

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

/** Reads `length` bytes of the memfd at `offset` straight from the descriptor. */
function readMemfd(fx: Fixture, offset: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  expect(readSync(fx.file.fd, bytes, 0, length, offset)).toBe(length);
  return bytes;
}

/** Returns the memfd offset the host maps at `addr`. */
function memfdOffsetOf(as: RecordingAddressSpace, addr: number): number {
  const page = as.page(addr);
  if (page === undefined) {
    throw new Error(`nothing mapped at ${addr.toString(16)}`);
  }
  return page.offset + (addr % PAGE);
}

describe("memory on a real memfd", () => {
  let fx: Fixture;

  beforeEach(() => {
    fx = makeFixture();
  });

  afterEach(() => {
    fx.close();
  });

  it("writes copyOut data at the mapped memfd offset", () => {
    const a = fx.mm.mmap({ addr: 0, length: 8 * PAGE, prot: RW, flags: ANON });
    const data = new TextEncoder().encode("hello, memfd");
    fx.mm.copyOut(a + 3 * PAGE - 5, data);
    const first = readMemfd(fx, memfdOffsetOf(fx.as, a + 3 * PAGE - 5), 5);
    const second = readMemfd(fx, memfdOffsetOf(fx.as, a + 3 * PAGE), data.length - 5);
    expect(new TextDecoder().decode(first) + new TextDecoder().decode(second)).toBe("hello, memfd");
  });

  it("gives memory back on munmap and MADV_DONTNEED", () => {
    const a = fx.mm.mmap({ addr: 0, length: 4 * MiB, prot: RW, flags: ANON });
    fx.mm.copyOut(a, new Uint8Array(4 * MiB).fill(1));
    expect(fx.file.allocatedBytes()).toBe(4 * MiB);

    fx.mm.madvise(a, MiB, MADV_DONTNEED);
    expect(fx.file.allocatedBytes()).toBe(3 * MiB);
    expect(fx.mm.copyIn(a + 10, 1)[0]).toBe(0);

    fx.mm.munmap(a + MiB, 2 * MiB);
    expect(fx.file.allocatedBytes()).toBe(MiB);
    fx.mm.munmap(a, 4 * MiB);
    expect(fx.file.allocatedBytes()).toBe(0);
    expect(fx.allocator.usedBytes).toBe(0);
  });

  it("keeps shared memory contents", () => {
    const a = fx.mm.mmap({ addr: 0, length: 2 * PAGE, prot: RW, flags: MAP_SHARED | MAP_ANONYMOUS });
    fx.mm.copyOut(a, Uint8Array.of(1, 2, 3));
    fx.mm.madvise(a, 2 * PAGE, MADV_DONTNEED);
    expect(fx.mm.copyIn(a, 3)).toEqual(Uint8Array.of(1, 2, 3));
    expect(fx.file.allocatedBytes()).toBe(PAGE);

    fx.mm.munmap(a, 2 * PAGE);
    expect(fx.file.allocatedBytes()).toBe(0);
  });

  it("shares a tmpfs file between two processes", () => {
    const tmp = new MemfdFile("/dev/shm/region", fx.allocator, 4 * PAGE);
    const other = new MemoryManager({
      memoryFile: fx.file,
      allocator: fx.allocator,
      addressSpace: new RecordingAddressSpace(),
      userRange: { start: USER_START, end: USER_END },
      reservedRanges: [],
    });
    try {
      const a = fx.mm.mmap({ addr: 0, length: 4 * PAGE, prot: RW, flags: MAP_SHARED, file: tmp });
      const b = other.mmap({ addr: 0, length: 2 * PAGE, prot: RW, flags: MAP_SHARED, file: tmp, offset: 2 * PAGE });
      fx.mm.copyOut(a + 2 * PAGE + 7, Uint8Array.of(42));
      expect(other.copyIn(b + 7, 1)[0]).toBe(42);
      other.copyOut(b, Uint8Array.of(43));
      const fromFile = new Uint8Array(1);
      tmp.readAt(2 * PAGE, fromFile);
      expect(fromFile[0]).toBe(43);
      expect(fx.mm.vmas()[0]).toMatchObject({ shared: true, name: "/dev/shm/region", offset: 0 });
      expect(other.vmas()[0]).toMatchObject({ offset: 2 * PAGE });

      fx.mm.munmap(a, 4 * PAGE);
      other.release();
      expect(fx.allocator.usedBytes).toBe(tmp.pages.size * PAGE);
    } finally {
      other.release();
      tmp.release();
    }
    expect(fx.allocator.usedBytes).toBe(0);
  });

  it("splits and merges VMAs around mprotect and munmap", () => {
    const a = fx.mm.mmap({ addr: 0, length: 6 * PAGE, prot: RW, flags: ANON });
    fx.mm.copyOut(a, new Uint8Array(6 * PAGE).fill(5));
    fx.mm.mprotect(a + 2 * PAGE, 2 * PAGE, PROT_READ);
    expect(fx.mm.vmas().map((vma) => vma.prot)).toEqual([RW, PROT_READ, RW]);
    fx.mm.munmap(a + 5 * PAGE, PAGE);
    fx.mm.mprotect(a + 2 * PAGE, 2 * PAGE, RW);
    expect(fx.mm.vmas().map((vma) => [vma.start - a, vma.end - a])).toEqual([[0, 5 * PAGE]]);
    expect(fx.mm.copyIn(a + 3 * PAGE, 1)[0]).toBe(5);
    expect(fx.file.allocatedBytes()).toBe(5 * PAGE);
  });

  it("keeps data through mremap grow, move and shrink", () => {
    const a = fx.mm.mmap({ addr: 0, length: 2 * PAGE, prot: RW, flags: ANON });
    fx.mm.mmap({ addr: a + 2 * PAGE, length: PAGE, prot: PROT_READ, flags: ANON | MAP_FIXED });
    const data = new Uint8Array(2 * PAGE).map((_, i) => (i * 7) & 0xff);
    fx.mm.copyOut(a, data);

    const moved = fx.mm.mremap(a, 2 * PAGE, 8 * PAGE, MREMAP_MAYMOVE);
    expect(fx.mm.copyIn(moved, 2 * PAGE)).toEqual(data);
    expect(fx.file.allocatedBytes()).toBe(2 * PAGE);
    fx.mm.copyOut(moved + 7 * PAGE, Uint8Array.of(1));

    expect(fx.mm.mremap(moved, 8 * PAGE, PAGE, 0)).toBe(moved);
    expect(fx.mm.copyIn(moved, PAGE)).toEqual(data.subarray(0, PAGE));
    expect(fx.file.allocatedBytes()).toBe(PAGE);
  });

  it("grows and shrinks brk memory", () => {
    const base = 0x555555554000;
    fx.mm.setBrkBase(base);
    expect(fx.mm.brk(base + 10 * PAGE)).toBe(base + 10 * PAGE);
    fx.mm.copyOut(base, new Uint8Array(10 * PAGE).fill(3));
    expect(fx.file.allocatedBytes()).toBe(10 * PAGE);
    expect(fx.mm.brk(base + 4 * PAGE)).toBe(base + 4 * PAGE);
    expect(fx.file.allocatedBytes()).toBe(4 * PAGE);
    expect(fx.mm.brk(base + 10 * PAGE)).toBe(base + 10 * PAGE);
    expect(fx.mm.copyIn(base + 4 * PAGE, 1)[0]).toBe(0);
    expect(fx.mm.copyIn(base + 4 * PAGE - 1, 1)[0]).toBe(3);
  });

  it("faults a 64 MiB region in few steps", () => {
    const size = 64 * MiB;
    const a = fx.mm.mmap({ addr: 0, length: size, prot: RW, flags: ANON });
    for (let addr = a; addr < a + size; addr += PAGE) {
      if (fx.as.page(addr) === undefined) {
        expect(fx.mm.handleFault(addr, PROT_WRITE).ok).toBe(true);
      }
    }
    const maps = fx.as.calls.filter((call) => call.op === "mapFile");
    expect(maps.length).toBeLessThanOrEqual(33);
    expect(fx.allocator.usedBytes).toBe(size);
    expect(fx.file.allocatedBytes()).toBe(0);
  });

  it("copies on write after fork without copying up front", () => {
    const a = fx.mm.mmap({ addr: 0, length: 16 * PAGE, prot: RW, flags: ANON });
    fx.mm.copyOut(a, new Uint8Array(16 * PAGE).fill(1));
    const before = fx.file.allocatedBytes();
    const child = fx.fork();
    expect(fx.file.allocatedBytes()).toBe(before);

    child.mm.copyOut(a + 5 * PAGE, Uint8Array.of(2));
    expect(fx.file.allocatedBytes()).toBeGreaterThan(before);
    expect(readMemfd(fx, memfdOffsetOf(child.as, a + 5 * PAGE), 1)[0]).toBe(2);
    expect(readMemfd(fx, memfdOffsetOf(fx.as, a + 5 * PAGE), 1)[0]).toBe(1);

    child.mm.release();
    fx.mm.copyOut(a, Uint8Array.of(3));
    expect(fx.file.allocatedBytes()).toBe(before);
  });

  it("copies only written pages on copy-on-write", () => {
    const a = fx.mm.mmap({ addr: 0, length: 64 * PAGE, prot: RW, flags: ANON });
    fx.mm.copyOut(a + 3 * PAGE, Uint8Array.of(1));
    const child = fx.fork();
    child.mm.copyOut(a + 3 * PAGE + 1, Uint8Array.of(2));
    expect(fx.file.allocatedBytes()).toBe(2 * PAGE);
    expect(child.mm.copyIn(a + 3 * PAGE, 2)).toEqual(Uint8Array.of(1, 2));
    expect(fx.mm.copyIn(a + 3 * PAGE, 2)).toEqual(Uint8Array.of(1, 0));
  });
});
