import { expect, test } from "vitest";
import { compareWithHeaders } from "../../test/cProbe";
import {
  formatMadviseAdvice, formatMapFlags, formatMremapFlags, formatMsyncFlags, formatProt, MadviseAdvice, MapFlags,
  MremapFlags, MsyncFlags, Prot,
} from "./mmap";

const HEADERS = ["sys/mman.h", "linux/mman.h"];

test("mmap constants match headers", () => {
  for (const constants of [Prot, MapFlags, MremapFlags, MsyncFlags]) {
    const { mismatches, missing } = compareWithHeaders(HEADERS, constants);
    expect(mismatches).toEqual([]);
    expect(["MAP_DROPPABLE"]).toEqual(expect.arrayContaining(missing));
  }
});

test("madvise advices match headers", () => {
  const { mismatches, missing } = compareWithHeaders(HEADERS, MadviseAdvice);
  expect(mismatches).toEqual([]);
  expect(["MADV_GUARD_INSTALL", "MADV_GUARD_REMOVE"]).toEqual(expect.arrayContaining(missing));
});

test("prot formats like strace", () => {
  expect(formatProt(Prot.PROT_READ | Prot.PROT_WRITE)).toBe("PROT_READ|PROT_WRITE");
  expect(formatProt(0)).toBe("PROT_NONE");
  expect(formatProt(Prot.PROT_READ | Prot.PROT_GROWSDOWN | 0x10)).toBe("PROT_READ|PROT_GROWSDOWN|0x10");
});

test("mmap flags format like strace", () => {
  expect(formatMapFlags(MapFlags.MAP_PRIVATE | MapFlags.MAP_ANONYMOUS)).toBe("MAP_PRIVATE|MAP_ANONYMOUS");
  expect(formatMapFlags(MapFlags.MAP_PRIVATE | MapFlags.MAP_FIXED | MapFlags.MAP_DENYWRITE))
    .toBe("MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE");
  expect(formatMapFlags(MapFlags.MAP_SHARED_VALIDATE)).toBe("MAP_SHARED_VALIDATE");
  expect(formatMapFlags(MapFlags.MAP_SHARED | MapFlags.MAP_GROWSDOWN | MapFlags.MAP_STACK))
    .toBe("MAP_SHARED|MAP_GROWSDOWN|MAP_STACK");
  expect(formatMapFlags(MapFlags.MAP_PRIVATE | MapFlags.MAP_HUGETLB | MapFlags.MAP_FIXED_NOREPLACE | (21 << 26)))
    .toBe("MAP_PRIVATE|MAP_HUGETLB|MAP_FIXED_NOREPLACE|21<<MAP_HUGE_SHIFT");
  expect(formatMapFlags(0)).toBe("0");
});

test("mremap, msync and madvise format", () => {
  expect(formatMremapFlags(MremapFlags.MREMAP_MAYMOVE | MremapFlags.MREMAP_FIXED)).toBe("MREMAP_MAYMOVE|MREMAP_FIXED");
  expect(formatMsyncFlags(MsyncFlags.MS_SYNC)).toBe("MS_SYNC");
  expect(formatMadviseAdvice(MadviseAdvice.MADV_DONTNEED)).toBe("MADV_DONTNEED");
  expect(formatMadviseAdvice(77)).toBe("0x4d /* MADV_??? */");
});
