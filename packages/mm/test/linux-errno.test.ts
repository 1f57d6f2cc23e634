import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Errno, SyscallError } from "@sandbox/abi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  MADV_DONTNEED,
  MADV_FREE,
  MADV_POPULATE_WRITE,
  MADV_REMOVE,
  MADV_WIPEONFORK,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_SHARED_VALIDATE,
  MREMAP_DONTUNMAP,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  PROT_GROWSDOWN,
  PROT_GROWSUP,
  PROT_READ,
  PROT_WRITE,
} from "../src/flags";
import type { MemoryManager } from "../src/memory-manager";
import { type Fixture, PAGE, makeFixture } from "./fixture";

// Differential test: fixtures/mm-errno.c runs each case against the host
// kernel, and the same case runs against mm in the same order, from the
// same layout: two private pages at B, a hole after them, a shared page at S.

const B = 0x200000000000;
const S = 0x200000100000;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

const CASES: ReadonlyArray<[string, (mm: MemoryManager) => unknown]> = [
  ["mmap-length-0", (mm) => mm.mmap({ addr: 0, length: 0, prot: PROT_READ, flags: ANON })],
  ["mmap-no-type", (mm) => mm.mmap({ addr: 0, length: PAGE, prot: PROT_READ, flags: MAP_ANONYMOUS })],
  ["mmap-fixed-unaligned", (mm) => mm.mmap({ addr: B + 1, length: PAGE, prot: PROT_READ, flags: ANON | MAP_FIXED })],
  ["mmap-noreplace-overlap", (mm) => mm.mmap({ addr: B + PAGE, length: PAGE, prot: PROT_READ, flags: ANON | MAP_FIXED_NOREPLACE })],
  ["mmap-offset-unaligned", (mm) => mm.mmap({ addr: 0, length: PAGE, prot: PROT_READ, flags: ANON, offset: 1 })],
  ["mmap-validate-anonymous", (mm) => mm.mmap({ addr: 0, length: PAGE, prot: PROT_READ, flags: MAP_SHARED_VALIDATE | MAP_ANONYMOUS })],
  ["mmap-no-file", (mm) => mm.mmap({ addr: 0, length: PAGE, prot: PROT_READ, flags: MAP_PRIVATE })],
  ["mmap-huge", (mm) => mm.mmap({ addr: 0, length: 2 ** 52, prot: PROT_READ, flags: ANON })],
  ["munmap-length-0", (mm) => mm.munmap(B, 0)],
  ["munmap-unaligned", (mm) => mm.munmap(B + 1, PAGE)],
  ["munmap-hole", (mm) => mm.munmap(B + 2 * PAGE, PAGE)],
  ["mprotect-unaligned", (mm) => mm.mprotect(B + 1, PAGE, PROT_READ)],
  ["mprotect-length-0", (mm) => mm.mprotect(B, 0, PROT_READ)],
  ["mprotect-bad-prot", (mm) => mm.mprotect(B, PAGE, 0x10)],
  ["mprotect-hole", (mm) => mm.mprotect(B + 2 * PAGE, PAGE, PROT_READ)],
  ["mprotect-growsdown-plain", (mm) => mm.mprotect(B, PAGE, PROT_READ | PROT_GROWSDOWN)],
  ["mprotect-both-grows", (mm) => mm.mprotect(B, PAGE, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP)],
  ["mprotect-into-hole", (mm) => mm.mprotect(B, 3 * PAGE, PROT_READ)],
  ["madvise-bad-advice", (mm) => mm.madvise(B, PAGE, 77)],
  ["madvise-unaligned", (mm) => mm.madvise(B + 1, PAGE, MADV_DONTNEED)],
  ["madvise-hole", (mm) => mm.madvise(B + 2 * PAGE, PAGE, MADV_DONTNEED)],
  ["madvise-length-0", (mm) => mm.madvise(B, 0, MADV_DONTNEED)],
  ["madvise-length-0-bad", (mm) => mm.madvise(B, 0, 77)],
  ["madvise-free-shared", (mm) => mm.madvise(S, PAGE, MADV_FREE)],
  ["madvise-remove-private", (mm) => mm.madvise(B, PAGE, MADV_REMOVE)],
  ["madvise-wipeonfork-shared", (mm) => mm.madvise(S, PAGE, MADV_WIPEONFORK)],
  ["madvise-populate-write-readonly", (mm) => mm.madvise(B, PAGE, MADV_POPULATE_WRITE)],
  ["mremap-unaligned", (mm) => mm.mremap(B + 1, PAGE, 2 * PAGE, MREMAP_MAYMOVE)],
  ["mremap-new-0", (mm) => mm.mremap(B, PAGE, 0, MREMAP_MAYMOVE)],
  ["mremap-bad-flags", (mm) => mm.mremap(B, PAGE, PAGE, 8)],
  ["mremap-fixed-no-move", (mm) => mm.mremap(B, PAGE, PAGE, MREMAP_FIXED, 0x300000000000)],
  ["mremap-hole", (mm) => mm.mremap(B + 2 * PAGE, PAGE, 2 * PAGE, MREMAP_MAYMOVE)],
  ["mremap-shrink-hole", (mm) => mm.mremap(B + 2 * PAGE, 2 * PAGE, PAGE, 0)],
  ["mremap-old-0-private", (mm) => mm.mremap(B, 0, PAGE, MREMAP_MAYMOVE)],
  ["mremap-dontunmap-resize", (mm) => mm.mremap(B, PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP)],
  ["mremap-fixed-overlap", (mm) => mm.mremap(B, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, B + PAGE)],
  ["mremap-across-end", (mm) => mm.mremap(B, 4 * PAGE, 8 * PAGE, MREMAP_MAYMOVE)],
  ["mremap-same-size-across-hole", (mm) => mm.mremap(B, 3 * PAGE, 3 * PAGE, 0)],
];

const ERRNO_NAMES = new Map<number, string>(Object.entries(Errno).map(([name, value]) => [value, name]));

function runOnMm(mm: MemoryManager, action: (mm: MemoryManager) => unknown): string {
  try {
    action(mm);
    return "0";
  } catch (error) {
    if (error instanceof SyscallError) {
      return ERRNO_NAMES.get(error.errno) ?? `errno ${error.errno}`;
    }
    throw error;
  }
}

const hasGcc = spawnSync("gcc", ["--version"]).status === 0;

describe.skipIf(!hasGcc)("mm errors match Linux", () => {
  let directory: string;
  let host: Map<string, string>;
  let fx: Fixture;

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), "mm-errno-"));
    const binary = join(directory, "mm-errno");
    execFileSync("gcc", ["-O1", "-o", binary, join(__dirname, "fixtures", "mm-errno.c")]);
    const output = execFileSync(binary, { encoding: "utf8" });
    host = new Map(output.trim().split("\n").map((line) => line.split(" ") as [string, string]));
    fx = makeFixture();
    fx.mm.mmap({ addr: B, length: 2 * PAGE, prot: PROT_READ | PROT_WRITE, flags: ANON | MAP_FIXED_NOREPLACE });
    fx.mm.mmap({ addr: S, length: PAGE, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE });
  });

  afterAll(() => {
    fx?.close();
    if (directory !== undefined) {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it("runs every case on the host", () => {
    expect([...host.keys()]).toEqual(CASES.map(([name]) => name));
  });

  // The cases share one address space and run in order, like the C program.
  it.each(CASES)("%s", (name, action) => {
    expect(runOnMm(fx.mm, action)).toBe(host.get(name));
  });
});
