import { Errno, SyscallError } from "@sandbox/abi";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BytesFile, type Fixture, MemfdFile, MiB, PAGE, USER_END, USER_START, makeFixture } from "../test/fixture";
import {
  BUS_ADRERR,
  MADV_DONTFORK,
  MADV_DONTNEED,
  MADV_FREE,
  MADV_POPULATE_WRITE,
  MADV_REMOVE,
  MADV_WIPEONFORK,
  MAP_32BIT,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_GROWSDOWN,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_SHARED_VALIDATE,
  MREMAP_DONTUNMAP,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  PROT_EXEC,
  PROT_GROWSDOWN,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  SEGV_ACCERR,
  SEGV_MAPERR,
  SIGBUS,
  SIGSEGV,
} from "./flags";
import type { MemoryManager, MmapRequest } from "./memory-manager";

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

function errnoOf(action: () => unknown): number {
  try {
    action();
  } catch (error) {
    if (error instanceof SyscallError) {
      return error.errno;
    }
    throw error;
  }
  return 0;
}

function anon(mm: MemoryManager, length: number, extra: Partial<MmapRequest> = {}): number {
  return mm.mmap({ addr: 0, length, prot: RW, flags: ANON, ...extra });
}

describe("MemoryManager", () => {
  let fx: Fixture;
  let mm: MemoryManager;

  beforeEach(() => {
    fx = makeFixture();
    mm = fx.mm;
  });

  afterEach(() => {
    fx.close();
  });

  describe("mmap", () => {
    it("places mappings top-down below the mmap base", () => {
      const a = anon(mm, 3 * PAGE);
      const b = anon(mm, PAGE);
      expect(a + 3 * PAGE).toBe(mm.mmapBase);
      expect(b + PAGE).toBe(a);
      expect(fx.as.calls).toEqual([]);
    });

    it("merges adjacent compatible mappings", () => {
      const a = anon(mm, 3 * PAGE);
      anon(mm, PAGE);
      expect(mm.vmas()).toHaveLength(1);
      expect(mm.vmas()[0].start).toBe(a - PAGE);
    });

    it("uses a free hint and rounds it up", () => {
      expect(anon(mm, PAGE, { addr: 0x300000001 })).toBe(0x300001000);
      expect(anon(mm, PAGE, { addr: 0x300001000 })).not.toBe(0x300001000);
      expect(anon(mm, PAGE, { addr: 0x1000 })).toBe(USER_START);
    });

    it("replaces mappings with MAP_FIXED", () => {
      const a = anon(mm, 4 * PAGE);
      mm.copyOut(a + PAGE, Uint8Array.of(5));
      const b = mm.mmap({ addr: a + PAGE, length: PAGE, prot: PROT_READ, flags: ANON | MAP_FIXED });
      expect(b).toBe(a + PAGE);
      expect(mm.vmas().map((vma) => [vma.start - a, vma.end - a, vma.prot])).toEqual([
        [0, PAGE, RW],
        [PAGE, 2 * PAGE, PROT_READ],
        [2 * PAGE, 4 * PAGE, RW],
      ]);
      expect(mm.copyIn(a + PAGE, 1)[0]).toBe(0);
    });

    it("rejects overlaps with MAP_FIXED_NOREPLACE", () => {
      const a = anon(mm, 2 * PAGE);
      expect(errnoOf(() => anon(mm, PAGE, { addr: a + PAGE, flags: ANON | MAP_FIXED_NOREPLACE }))).toBe(Errno.EEXIST);
      expect(anon(mm, PAGE, { addr: a - PAGE, flags: ANON | MAP_FIXED_NOREPLACE })).toBe(a - PAGE);
    });

    it("returns Linux errors for bad requests", () => {
      const cases: Array<[string, Partial<MmapRequest>, number]> = [
        ["length 0", { length: 0 }, Errno.EINVAL],
        ["no type", { flags: MAP_ANONYMOUS }, Errno.EINVAL],
        ["shared and private", { flags: MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS }, Errno.EINVAL],
        ["fixed unaligned", { addr: 0x10000001, flags: ANON | MAP_FIXED }, Errno.EINVAL],
        ["noreplace unaligned", { addr: 0x10000001, flags: ANON | MAP_FIXED_NOREPLACE }, Errno.EINVAL],
        ["fixed below user range", { addr: 0x1000, flags: ANON | MAP_FIXED }, Errno.EPERM],
        ["fixed past user range", { addr: USER_END - PAGE, length: 2 * PAGE, flags: ANON | MAP_FIXED }, Errno.ENOMEM],
        ["huge length", { length: 2 ** 50 }, Errno.ENOMEM],
        ["unaligned offset", { offset: 1 }, Errno.EINVAL],
        ["validate anonymous", { flags: MAP_SHARED_VALIDATE | MAP_ANONYMOUS }, Errno.EINVAL],
        ["file without file", { flags: MAP_PRIVATE }, Errno.EBADF],
        ["negative address", { addr: -4096 }, Errno.EINVAL],
        ["fractional length", { length: 1.5 }, Errno.EINVAL],
        ["shared anonymous growsdown", { flags: MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN }, Errno.EINVAL],
      ];
      for (const [name, request, errno] of cases) {
        expect(errnoOf(() => anon(mm, PAGE, request)), name).toBe(errno);
      }
      expect(mm.vmas()).toEqual([]);
    });

    it("accepts unknown prot bits and legacy flags", () => {
      const a = mm.mmap({ addr: 0, length: PAGE, prot: 0x10 | PROT_READ, flags: ANON | 0x800000 });
      expect(mm.vmas()[0]).toMatchObject({ start: a, prot: PROT_READ });
    });

    it("checks file mappings", () => {
      const bytes = new BytesFile("/bin/data", new Uint8Array(PAGE));
      expect(errnoOf(() => mm.mmap({ addr: 0, length: PAGE, prot: PROT_READ, flags: MAP_SHARED, file: bytes }))).toBe(Errno.ENODEV);
      const tmp = new MemfdFile("/tmp/f", fx.allocator, PAGE);
      expect(
        errnoOf(() => mm.mmap({ addr: 0, length: PAGE, prot: RW, flags: MAP_SHARED, file: tmp, maxProt: PROT_READ })),
      ).toBe(Errno.EACCES);
      expect(
        errnoOf(() => mm.mmap({ addr: 0, length: PAGE, prot: RW, flags: MAP_SHARED_VALIDATE | 0x800000, file: tmp })),
      ).toBe(Errno.EOPNOTSUPP);
      expect(
        errnoOf(() => mm.mmap({ addr: 0, length: PAGE, prot: PROT_READ, flags: MAP_PRIVATE, file: tmp, offset: 2 ** 53 - PAGE })),
      ).toBe(Errno.EOVERFLOW);
      const privateMap = mm.mmap({ addr: 0, length: PAGE, prot: RW, flags: MAP_PRIVATE, file: tmp, maxProt: PROT_READ });
      expect(mm.vmas()[0]).toMatchObject({ start: privateMap, shared: false, name: "/tmp/f" });
      expect(tmp.mappings).toBe(1);
      mm.munmap(privateMap, PAGE);
      expect(tmp.mappings).toBe(0);
    });

    it("never maps over reserved ranges", () => {
      fx.close();
      const reservedStart = 0x7fff00000000;
      fx = makeFixture({ reservedRanges: [{ start: reservedStart, end: USER_END }], mmapBase: USER_END });
      mm = fx.mm;
      const a = anon(mm, PAGE);
      expect(a + PAGE).toBe(reservedStart);
      expect(errnoOf(() => anon(mm, PAGE, { addr: reservedStart, flags: ANON | MAP_FIXED }))).toBe(Errno.ENOMEM);
      expect(anon(mm, PAGE, { addr: reservedStart })).toBeLessThan(reservedStart);
      mm.munmap(reservedStart, PAGE);
      expect(errnoOf(() => mm.mprotect(reservedStart, PAGE, PROT_READ))).toBe(Errno.ENOMEM);
    });

    it("keeps new mappings out of a stack's guard gap", () => {
      const stackTop = mm.mmapBase;
      const stack = anon(mm, 16 * PAGE, { addr: stackTop - 16 * PAGE, flags: ANON | MAP_FIXED | MAP_GROWSDOWN });
      const below = anon(mm, PAGE);
      expect(below + PAGE).toBeLessThanOrEqual(stack - 256 * PAGE);
    });

    it("places MAP_32BIT mappings below 2 GiB", () => {
      const a = anon(mm, 2 * PAGE, { flags: ANON | MAP_32BIT });
      expect(a).toBeGreaterThanOrEqual(0x40000000);
      expect(a + 2 * PAGE).toBeLessThanOrEqual(0x80000000);
    });

    it("populates with MAP_POPULATE", () => {
      const a = anon(mm, 4 * PAGE, { flags: ANON | MAP_POPULATE });
      expect(mm.residentBytes()).toBe(4 * PAGE);
      expect(fx.as.page(a + 3 * PAGE)?.prot).toBe(RW);
    });
  });

  describe("faults", () => {
    it("maps a region of zeroed pages on first touch", () => {
      const a = anon(mm, 64 * MiB);
      expect(mm.handleFault(a + 5 * MiB + 123, PROT_WRITE)).toEqual({ ok: true });
      const calls = fx.as.takeCalls();
      expect(calls).toHaveLength(1);
      const regionStart = a + 5 * MiB - ((a + 5 * MiB) % (2 * MiB));
      expect(calls[0]).toMatchObject({ op: "mapFile", addr: regionStart, length: 2 * MiB, prot: RW });
      expect(mm.copyIn(a + 5 * MiB, 4)).toEqual(new Uint8Array(4));
    });

    it("clips regions to the VMA", () => {
      const a = anon(mm, 3 * PAGE);
      mm.handleFault(a + PAGE, PROT_READ);
      expect(fx.as.takeCalls()).toEqual([{ op: "mapFile", addr: a, length: 3 * PAGE, offset: expect.any(Number), prot: RW }]);
    });

    it("reports SEGV_MAPERR and SEGV_ACCERR", () => {
      const a = anon(mm, PAGE, { prot: PROT_READ });
      expect(mm.handleFault(a - 10 * PAGE, PROT_READ)).toEqual({ ok: false, signo: SIGSEGV, code: SEGV_MAPERR });
      expect(mm.handleFault(a, PROT_WRITE)).toEqual({ ok: false, signo: SIGSEGV, code: SEGV_ACCERR });
      expect(mm.handleFault(a, PROT_EXEC)).toEqual({ ok: false, signo: SIGSEGV, code: SEGV_ACCERR });
      expect(mm.handleFault(a, PROT_READ)).toEqual({ ok: true });
      const none = anon(mm, PAGE, { prot: PROT_NONE });
      expect(mm.handleFault(none, PROT_READ)).toEqual({ ok: false, signo: SIGSEGV, code: SEGV_ACCERR });
    });

    it("treats write and exec as implying read", () => {
      const a = anon(mm, PAGE, { prot: PROT_WRITE });
      expect(mm.handleFault(a, PROT_READ)).toEqual({ ok: true });
      const x = anon(mm, PAGE, { prot: PROT_EXEC });
      expect(mm.handleFault(x, PROT_READ)).toEqual({ ok: true });
    });

    it("copies private file pages and zero-fills the tail", () => {
      const data = new Uint8Array(PAGE + 100).fill(0x42);
      const file = new BytesFile("/lib/x.so", data);
      const a = mm.mmap({ addr: 0, length: 4 * PAGE, prot: RW, flags: MAP_PRIVATE, file });
      expect(mm.copyIn(a + PAGE + 99, 2)).toEqual(Uint8Array.of(0x42, 0));
      mm.copyOut(a, Uint8Array.of(1));
      expect(data[0]).toBe(0x42);
      expect(mm.handleFault(a + 2 * PAGE, PROT_READ)).toEqual({ ok: false, signo: SIGBUS, code: BUS_ADRERR });
    });

    it("honours the file offset of a private mapping", () => {
      const data = new Uint8Array(3 * PAGE);
      data[2 * PAGE] = 9;
      const file = new BytesFile("/lib/y.so", data);
      const a = mm.mmap({ addr: 0, length: PAGE, prot: PROT_READ, flags: MAP_PRIVATE, file, offset: 2 * PAGE });
      expect(mm.copyIn(a, 1)[0]).toBe(9);
    });

    it("maps file pages read-only until written", () => {
      const tmp = new MemfdFile("/tmp/lib", fx.allocator, 2 * PAGE);
      tmp.write(0, Uint8Array.of(7));
      const a = mm.mmap({ addr: 0, length: 2 * PAGE, prot: RW, flags: MAP_PRIVATE, file: tmp });
      expect(mm.handleFault(a, PROT_READ)).toEqual({ ok: true });
      const filePage = tmp.pages.get(0) as number;
      expect(fx.as.page(a)).toEqual({ offset: filePage, prot: PROT_READ });

      mm.copyOut(a, Uint8Array.of(8));
      expect(fx.as.page(a)?.offset).not.toBe(filePage);
      expect(fx.as.page(a)?.prot).toBe(RW);
      expect(mm.copyIn(a, 1)[0]).toBe(8);
      const fileByte = new Uint8Array(1);
      tmp.readAt(0, fileByte);
      expect(fileByte[0]).toBe(7);
      tmp.release();
    });

    it("grows a stack down on faults below it", () => {
      const top = 0x700000000000;
      const stack = anon(mm, 4 * PAGE, { addr: top - 4 * PAGE, flags: ANON | MAP_FIXED | MAP_GROWSDOWN, name: "[stack]" });
      expect(mm.handleFault(stack - 3 * PAGE + 8, PROT_WRITE)).toEqual({ ok: true });
      expect(mm.vmas()[0]).toMatchObject({ start: stack - 3 * PAGE, end: top, name: "[stack]", growsDown: true });
      mm.copyOut(stack - 5 * PAGE, Uint8Array.of(1));
      expect(mm.vmas()[0].start).toBe(stack - 5 * PAGE);
      expect(mm.handleFault(top - 9 * MiB, PROT_WRITE).ok).toBe(false);
    });

    it("stops a stack at the guard gap", () => {
      const top = 0x700000000000;
      anon(mm, PAGE, { addr: top - 300 * PAGE, flags: ANON | MAP_FIXED });
      anon(mm, PAGE, { addr: top - PAGE, flags: ANON | MAP_FIXED | MAP_GROWSDOWN });
      expect(mm.handleFault(top - 40 * PAGE, PROT_WRITE).ok).toBe(true);
      expect(mm.handleFault(top - 260 * PAGE, PROT_WRITE)).toEqual({ ok: false, signo: SIGSEGV, code: SEGV_MAPERR });
    });
  });

  describe("copies", () => {
    it("round-trips across pages and VMAs", () => {
      const a = anon(mm, 2 * PAGE);
      anon(mm, 2 * PAGE, { addr: a + 2 * PAGE, flags: ANON | MAP_FIXED, prot: PROT_READ | PROT_WRITE | PROT_EXEC });
      const data = new Uint8Array(3 * PAGE).map((_, i) => i & 0xff);
      mm.copyOut(a + 100, data);
      expect(mm.copyIn(a + 100, data.length)).toEqual(data);
    });

    it("fails with EFAULT on unmapped or protected memory", () => {
      const a = anon(mm, PAGE, { prot: PROT_READ });
      expect(errnoOf(() => mm.copyOut(a, Uint8Array.of(1)))).toBe(Errno.EFAULT);
      expect(errnoOf(() => mm.copyIn(a + PAGE - 1, 2))).toBe(Errno.EFAULT);
      expect(errnoOf(() => mm.copyIn(USER_END - 1, 2))).toBe(Errno.EFAULT);
      expect(errnoOf(() => mm.copyIn(a, 1))).toBe(0);
      mm.mprotect(a, PAGE, PROT_NONE);
      expect(errnoOf(() => mm.copyIn(a, 1))).toBe(Errno.EFAULT);
    });

    it("copies partially up to a fault", () => {
      const a = anon(mm, 2 * PAGE);
      mm.munmap(a + PAGE, PAGE);
      expect(mm.copyOutPartial(a + PAGE - 2, Uint8Array.of(1, 2, 3, 4))).toBe(2);
      const target = new Uint8Array(4);
      expect(mm.copyInPartial(a + PAGE - 2, target)).toBe(2);
      expect([...target]).toEqual([1, 2, 0, 0]);
      expect(mm.copyInPartial(a + PAGE, target)).toBe(0);
      expect(mm.copyInPartial(USER_END - 2, target)).toBe(0);
      expect(mm.copyInPartial(a, new Uint8Array(0))).toBe(0);
    });

    it("reads C strings", () => {
      const a = anon(mm, 2 * PAGE);
      mm.copyOut(a + PAGE - 3, new TextEncoder().encode("/bin/sh\0"));
      expect(mm.readCString(a + PAGE - 3, 4096)).toBe("/bin/sh");
      expect(errnoOf(() => mm.readCString(a + PAGE - 3, 7))).toBe(Errno.ENAMETOOLONG);
      expect(mm.readCString(a + PAGE - 3, 8)).toBe("/bin/sh");
      mm.copyOut(a + PAGE, new Uint8Array(PAGE).fill(0x41));
      expect(errnoOf(() => mm.readCString(a + PAGE, 2 * PAGE))).toBe(Errno.EFAULT);
    });
  });

  describe("munmap", () => {
    it("splits VMAs and unmaps installed pages", () => {
      const a = anon(mm, 4 * PAGE, { flags: ANON | MAP_POPULATE });
      fx.as.takeCalls();
      mm.munmap(a + PAGE, 2 * PAGE);
      expect(mm.vmas().map((vma) => [vma.start - a, vma.end - a])).toEqual([
        [0, PAGE],
        [3 * PAGE, 4 * PAGE],
      ]);
      expect(fx.as.takeCalls()).toEqual([{ op: "unmap", addr: a + PAGE, length: 2 * PAGE }]);
      expect(fx.allocator.usedBytes).toBe(2 * PAGE);
    });

    it("returns Linux errors", () => {
      const a = anon(mm, PAGE);
      expect(errnoOf(() => mm.munmap(a, 0))).toBe(Errno.EINVAL);
      expect(errnoOf(() => mm.munmap(a + 1, PAGE))).toBe(Errno.EINVAL);
      expect(errnoOf(() => mm.munmap(USER_END - PAGE, 2 * PAGE))).toBe(Errno.EINVAL);
      expect(errnoOf(() => mm.munmap(0x500000000, PAGE))).toBe(0);
      expect(errnoOf(() => mm.munmap(0, PAGE))).toBe(0);
    });
  });

  describe("mprotect", () => {
    it("splits, reprotects and merges back", () => {
      const a = anon(mm, 4 * PAGE, { flags: ANON | MAP_POPULATE });
      fx.as.takeCalls();
      mm.mprotect(a + PAGE, PAGE, PROT_READ);
      expect(mm.vmas()).toHaveLength(3);
      expect(fx.as.takeCalls()).toEqual([{ op: "protect", addr: a + PAGE, length: PAGE, prot: PROT_READ }]);
      expect(errnoOf(() => mm.copyOut(a + PAGE, Uint8Array.of(1)))).toBe(Errno.EFAULT);

      mm.mprotect(a + PAGE, PAGE, RW);
      expect(mm.vmas()).toHaveLength(1);
      mm.copyOut(a + PAGE, Uint8Array.of(1));
    });

    it("returns Linux errors", () => {
      const a = anon(mm, 2 * PAGE);
      mm.munmap(a + PAGE, PAGE);
      expect(errnoOf(() => mm.mprotect(a + 1, PAGE, PROT_READ))).toBe(Errno.EINVAL);
      expect(errnoOf(() => mm.mprotect(a, 0, PROT_READ))).toBe(0);
      expect(errnoOf(() => mm.mprotect(a, PAGE, 0x10))).toBe(Errno.EINVAL);
      expect(errnoOf(() => mm.mprotect(0x500000000, PAGE, PROT_READ))).toBe(Errno.ENOMEM);
      expect(errnoOf(() => mm.mprotect(a, 2 * PAGE, PROT_READ))).toBe(Errno.ENOMEM);
      expect(mm.vmas()[0].prot).toBe(PROT_READ);
      expect(errnoOf(() => mm.mprotect(a, PAGE, PROT_READ | PROT_GROWSDOWN))).toBe(Errno.EINVAL);
    });

    it("extends PROT_GROWSDOWN to the stack start", () => {
      const top = 0x700000000000;
      anon(mm, 4 * PAGE, { addr: top - 4 * PAGE, flags: ANON | MAP_FIXED | MAP_GROWSDOWN });
      mm.mprotect(top - 2 * PAGE, PAGE, PROT_READ | PROT_GROWSDOWN);
      expect(mm.vmas().map((vma) => [top - vma.start, top - vma.end, vma.prot])).toEqual([
        [4 * PAGE, PAGE, PROT_READ],
        [PAGE, 0, RW],
      ]);
    });

    it("rejects prot beyond the open mode", () => {
      const tmp = new MemfdFile("/tmp/ro", fx.allocator, PAGE);
      const a = mm.mmap({ addr: 0, length: PAGE, prot: PROT_READ, flags: MAP_SHARED, file: tmp, maxProt: PROT_READ });
      expect(errnoOf(() => mm.mprotect(a, PAGE, RW))).toBe(Errno.EACCES);
      mm.munmap(a, PAGE);
      tmp.release();
    });
  });

  describe("mremap", () => {
    it("grows in place when the next range is free", () => {
      const a = anon(mm, 4 * PAGE);
      mm.munmap(a + 2 * PAGE, 2 * PAGE);
      expect(mm.mremap(a, 2 * PAGE, 4 * PAGE, 0)).toBe(a);
      expect(mm.vmas()[0]).toMatchObject({ start: a, end: a + 4 * PAGE });
    });

    it("moves pages without copying", () => {
      const a = anon(mm, 2 * PAGE);
      anon(mm, PAGE, { addr: a + 2 * PAGE, flags: ANON | MAP_FIXED, prot: PROT_READ });
      mm.copyOut(a, Uint8Array.of(3));
      const offset = fx.as.page(a)?.offset;
      expect(errnoOf(() => mm.mremap(a, 2 * PAGE, 4 * PAGE, 0))).toBe(Errno.ENOMEM);

      const b = mm.mremap(a, 2 * PAGE, 4 * PAGE, MREMAP_MAYMOVE);
      expect(b).not.toBe(a);
      expect(fx.as.page(b)?.offset).toBe(offset);
      expect(fx.as.page(a)).toBeUndefined();
      expect(mm.copyIn(b, 1)[0]).toBe(3);
      expect(errnoOf(() => mm.copyIn(a, 1))).toBe(Errno.EFAULT);
    });

    it("shrinks by unmapping the tail", () => {
      const a = anon(mm, 4 * PAGE, { flags: ANON | MAP_POPULATE });
      expect(mm.mremap(a, 4 * PAGE, PAGE + 1, 0)).toBe(a);
      expect(mm.vmas()[0]).toMatchObject({ start: a, end: a + 2 * PAGE });
      expect(fx.allocator.usedBytes).toBe(2 * PAGE);
    });

    it("moves to a fixed address", () => {
      const a = anon(mm, 2 * PAGE);
      mm.copyOut(a + PAGE, Uint8Array.of(4));
      const target = 0x600000000;
      expect(mm.mremap(a, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, target)).toBe(target);
      expect(mm.copyIn(target + PAGE, 1)[0]).toBe(4);
      expect(mm.vmas()).toHaveLength(1);
    });

    it("keeps the old range with MREMAP_DONTUNMAP", () => {
      const a = anon(mm, PAGE);
      mm.copyOut(a, Uint8Array.of(6));
      const b = mm.mremap(a, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
      expect(mm.copyIn(b, 1)[0]).toBe(6);
      expect(mm.copyIn(a, 1)[0]).toBe(0);
    });

    it("duplicates a shared mapping from old size 0", () => {
      const a = mm.mmap({ addr: 0, length: PAGE, prot: RW, flags: MAP_SHARED | MAP_ANONYMOUS });
      const b = mm.mremap(a, 0, PAGE, MREMAP_MAYMOVE);
      mm.copyOut(a, Uint8Array.of(9));
      expect(mm.copyIn(b, 1)[0]).toBe(9);
    });

    it("returns Linux errors", () => {
      const a = anon(mm, 2 * PAGE);
      const cases: Array<[string, () => unknown, number]> = [
        ["unaligned", () => mm.mremap(a + 1, PAGE, 2 * PAGE, MREMAP_MAYMOVE), Errno.EINVAL],
        ["new size 0", () => mm.mremap(a, PAGE, 0, MREMAP_MAYMOVE), Errno.EINVAL],
        ["unknown flag", () => mm.mremap(a, PAGE, PAGE, 8), Errno.EINVAL],
        ["fixed without maymove", () => mm.mremap(a, PAGE, PAGE, MREMAP_FIXED, 0x600000000), Errno.EINVAL],
        ["unmapped", () => mm.mremap(0x500000000, PAGE, 2 * PAGE, MREMAP_MAYMOVE), Errno.EFAULT],
        ["old size 0 private", () => mm.mremap(a, 0, PAGE, MREMAP_MAYMOVE), Errno.EINVAL],
        ["dontunmap resize", () => mm.mremap(a, PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP), Errno.EINVAL],
        ["dontunmap without maymove", () => mm.mremap(a, PAGE, PAGE, MREMAP_DONTUNMAP), Errno.EINVAL],
        ["fixed overlap", () => mm.mremap(a, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, a + PAGE), Errno.EINVAL],
        ["fixed unaligned", () => mm.mremap(a, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, 0x600000001), Errno.EINVAL],
        ["across end", () => mm.mremap(a, 4 * PAGE, 8 * PAGE, MREMAP_MAYMOVE), Errno.EFAULT],
      ];
      for (const [name, action, errno] of cases) {
        expect(errnoOf(action), name).toBe(errno);
      }
      expect(mm.vmas()).toHaveLength(1);
    });
  });

  describe("brk", () => {
    const base = 0x555555560000;

    beforeEach(() => {
      mm.setBrkBase(base + 123);
    });

    it("grows and shrinks the heap", () => {
      expect(mm.brk(0)).toBe(base + PAGE);
      expect(mm.brk(base + PAGE + 5000)).toBe(base + PAGE + 5000);
      expect(mm.vmas()).toEqual([expect.objectContaining({ start: base + PAGE, end: base + 3 * PAGE, name: "[heap]", prot: RW })]);
      mm.copyOut(base + PAGE + 4999, Uint8Array.of(1));

      expect(mm.brk(base + PAGE + 1)).toBe(base + PAGE + 1);
      expect(mm.vmas()[0].end).toBe(base + 2 * PAGE);
      expect(mm.brk(base + PAGE)).toBe(base + PAGE);
      expect(mm.vmas()).toEqual([]);
    });

    it("returns the old break on failure", () => {
      mm.brk(base + 2 * PAGE);
      expect(mm.brk(PAGE)).toBe(base + 2 * PAGE);
      anon(mm, PAGE, { addr: base + 4 * PAGE, flags: ANON | MAP_FIXED });
      expect(mm.brk(base + 4 * PAGE)).toBe(base + 2 * PAGE);
      expect(mm.brk(base + 3 * PAGE)).toBe(base + 3 * PAGE);
      expect(mm.brk(2 ** 60)).toBe(base + 3 * PAGE);
    });
  });

  describe("madvise", () => {
    it("drops private pages with MADV_DONTNEED", () => {
      const a = anon(mm, 4 * PAGE);
      mm.copyOut(a, new Uint8Array(4 * PAGE).fill(1));
      mm.madvise(a + PAGE, 2 * PAGE, MADV_DONTNEED);
      expect(fx.allocator.usedBytes).toBe(2 * PAGE);
      expect(mm.copyIn(a + PAGE, 1)[0]).toBe(0);
      expect(mm.copyIn(a, 1)[0]).toBe(1);
    });

    it("returns Linux errors", () => {
      const a = anon(mm, PAGE);
      const shared = mm.mmap({ addr: 0, length: PAGE, prot: RW, flags: MAP_SHARED | MAP_ANONYMOUS });
      expect(errnoOf(() => mm.madvise(a, PAGE, 77))).toBe(Errno.EINVAL);
      expect(errnoOf(() => mm.madvise(a, 0, 77))).toBe(Errno.EINVAL);
      expect(errnoOf(() => mm.madvise(a, 0, MADV_DONTNEED))).toBe(0);
      expect(errnoOf(() => mm.madvise(a + 1, PAGE, MADV_DONTNEED))).toBe(Errno.EINVAL);
      expect(errnoOf(() => mm.madvise(0x500000000, PAGE, MADV_DONTNEED))).toBe(Errno.ENOMEM);
      expect(errnoOf(() => mm.madvise(a, 2 * PAGE, MADV_DONTNEED))).toBe(Errno.ENOMEM);
      expect(errnoOf(() => mm.madvise(shared, PAGE, MADV_FREE))).toBe(Errno.EINVAL);
      expect(errnoOf(() => mm.madvise(a, PAGE, MADV_REMOVE))).toBe(Errno.EINVAL);
      expect(errnoOf(() => mm.madvise(shared, PAGE, MADV_WIPEONFORK))).toBe(Errno.EINVAL);
      const readOnly = anon(mm, PAGE, { prot: PROT_READ });
      expect(errnoOf(() => mm.madvise(readOnly, PAGE, MADV_POPULATE_WRITE))).toBe(Errno.EINVAL);
    });

    it("zeroes shared memory with MADV_REMOVE", () => {
      const a = mm.mmap({ addr: 0, length: 2 * PAGE, prot: RW, flags: MAP_SHARED | MAP_ANONYMOUS });
      mm.copyOut(a, Uint8Array.of(1, 2));
      mm.madvise(a, PAGE, MADV_REMOVE);
      expect(mm.copyIn(a, 2)).toEqual(Uint8Array.of(0, 0));
    });
  });

  describe("fork", () => {
    it("shares private pages copy-on-write", () => {
      const a = anon(mm, 2 * PAGE);
      mm.copyOut(a, Uint8Array.of(1));
      const parentOffset = fx.as.page(a)?.offset;
      const child = fx.fork();
      expect(child.as.page(a)).toEqual({ offset: parentOffset, prot: PROT_READ });
      expect(fx.as.page(a)).toEqual({ offset: parentOffset, prot: PROT_READ });

      child.mm.copyOut(a, Uint8Array.of(2));
      expect(child.as.page(a)?.offset).not.toBe(parentOffset);
      expect(mm.copyIn(a, 1)[0]).toBe(1);
      expect(child.mm.copyIn(a, 1)[0]).toBe(2);

      mm.copyOut(a, Uint8Array.of(3));
      expect(fx.as.page(a)).toEqual({ offset: parentOffset, prot: RW });
      expect(child.mm.copyIn(a, 1)[0]).toBe(2);
    });

    it("shares shared mappings", () => {
      const a = mm.mmap({ addr: 0, length: PAGE, prot: RW, flags: MAP_SHARED | MAP_ANONYMOUS });
      mm.copyOut(a, Uint8Array.of(1));
      const child = fx.fork();
      child.mm.copyOut(a, Uint8Array.of(2));
      expect(mm.copyIn(a, 1)[0]).toBe(2);
    });

    it("honours MADV_DONTFORK and MADV_WIPEONFORK", () => {
      const a = anon(mm, PAGE);
      const b = anon(mm, PAGE, { prot: PROT_READ });
      const c = anon(mm, PAGE, { prot: PROT_READ | PROT_EXEC });
      mm.copyOut(a, Uint8Array.of(1));
      mm.madvise(a, PAGE, MADV_WIPEONFORK);
      mm.madvise(b, PAGE, MADV_DONTFORK);
      const child = fx.fork();
      expect(child.mm.vmas().map((vma) => vma.start)).toEqual([c, a]);
      expect(child.mm.copyIn(a, 1)[0]).toBe(0);
      expect(mm.copyIn(a, 1)[0]).toBe(1);
    });

    it("keeps brk in the child", () => {
      mm.setBrkBase(0x555555560000);
      mm.brk(0x555555562000);
      const child = fx.fork();
      expect(child.mm.brk(0)).toBe(0x555555562000);
    });
  });

  describe("release", () => {
    it("unmaps everything and frees pages", () => {
      const a = anon(mm, 4 * PAGE, { flags: ANON | MAP_POPULATE });
      anon(mm, PAGE, { addr: a - 2 * PAGE, flags: ANON | MAP_FIXED | MAP_POPULATE });
      fx.as.takeCalls();
      mm.release();
      expect(fx.as.takeCalls()).toEqual([
        { op: "unmap", addr: a - 2 * PAGE, length: PAGE },
        { op: "unmap", addr: a, length: 4 * PAGE },
      ]);
      expect(fx.allocator.usedBytes).toBe(0);
      expect(fx.as.released).toBe(false);
      expect(() => mm.vmas()).not.toThrow();
      expect(() => anon(mm, PAGE)).toThrow(/released/);
    });
  });
});

describe("MemoryManager spurious faults", () => {
  let fx: Fixture;

  beforeEach(() => {
    fx = makeFixture();
  });

  afterEach(() => {
    fx.close();
  });

  it("treats a read fault on a copy-on-write page as a write", () => {
    const a = anon(fx.mm, PAGE);
    fx.mm.copyOut(a, Uint8Array.of(1));
    const child = fx.fork();
    const shared = child.as.page(a)?.offset;
    expect(child.mm.handleFault(a, PROT_READ)).toEqual({ ok: true });
    expect(child.as.page(a)?.offset).not.toBe(shared);
    expect(child.as.page(a)?.prot).toBe(RW);
  });

  it("reinstalls a page the host lost", () => {
    const a = anon(fx.mm, PAGE, { prot: PROT_READ });
    fx.mm.handleFault(a, PROT_READ);
    fx.as.unmap(a, PAGE);
    expect(fx.mm.handleFault(a, PROT_READ)).toEqual({ ok: true });
    expect(fx.as.page(a)?.prot).toBe(PROT_READ);
  });

  it("treats an unknown access as a read", () => {
    const none = anon(fx.mm, PAGE, { prot: PROT_NONE });
    expect(fx.mm.handleFault(none, 0)).toEqual({ ok: false, signo: SIGSEGV, code: SEGV_ACCERR });
    const readable = anon(fx.mm, PAGE, { prot: PROT_READ });
    expect(fx.mm.handleFault(readable, 0)).toEqual({ ok: true });
  });

  it("ignores brk before setBrkBase", () => {
    expect(fx.mm.brk(0x555555560000)).toBe(0);
    expect(fx.mm.vmas()).toEqual([]);
  });
});
