import { openSync, closeSync, readSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { MemoryFile, PageAllocator } from "@sandbox/mm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FileReader, PageCache } from "./page-cache";

const PAGE = 4096;

describe("PageCache", () => {
  let memoryFile: MemoryFile;
  let allocator: PageAllocator;
  let directory: string;
  let fd: number;
  let reads: number;
  let read: FileReader;
  /** Five and a half pages: page i contains byte i + 1, except page 2, which is zeros. */
  const content = new Uint8Array(5 * PAGE + PAGE / 2);

  beforeEach(() => {
    memoryFile = MemoryFile.create("page-cache-test");
    allocator = new PageAllocator(memoryFile);
    directory = mkdtempSync("/var/tmp/page-cache-");
    for (let page = 0; page < 6; page++) if (page !== 2) content.fill(page + 1, page * PAGE, (page + 1) * PAGE);
    writeFileSync(join(directory, "file"), content);
    fd = openSync(join(directory, "file"), "r");
    reads = 0;
    read = (offset, target) => {
      reads++;
      return readSync(fd, target, 0, target.length, offset);
    };
  });

  afterEach(() => {
    closeSync(fd);
    memoryFile.close();
    rmSync(directory, { recursive: true, force: true });
  });

  function bytesAt(memfdOffset: number, length: number): Uint8Array {
    const bytes = new Uint8Array(length);
    memoryFile.read(memfdOffset, bytes);
    return bytes;
  }

  it("reads a file's pages once and hands the same pages to every mapping", () => {
    const cache = new PageCache(memoryFile, allocator);
    const key = {};
    const first = cache.translate(key, content.length, read, 0, 8 * PAGE);
    // Pages past the end of the file are not handed out; the last one is zero-filled past it.
    expect(first.reduce((sum, range) => sum + range.length, 0)).toBe(6 * PAGE);
    const readsAfterFirst = reads;
    const second = cache.translate(key, content.length, read, PAGE, 2 * PAGE);
    expect(reads).toBe(readsAfterFirst);
    expect(second[0].memfdOffset).toBe(first[0].memfdOffset + PAGE);

    let page = 0;
    for (const range of first) {
      for (let at = 0; at < range.length; at += PAGE, page++) {
        const expected = content.subarray(page * PAGE, (page + 1) * PAGE);
        const got = bytesAt(range.memfdOffset + at, PAGE);
        expect(got.subarray(0, expected.length)).toEqual(expected);
        expect(got.subarray(expected.length).every((byte) => byte === 0)).toBe(true);
      }
    }
    expect(cache.cachedBytes).toBe(6 * PAGE);
    expect(allocator.refCount(first[0].memfdOffset)).toBe(1);
  });

  it("evicts least recently used files", () => {
    const cache = new PageCache(memoryFile, allocator, 6 * PAGE);
    const old = {};
    const recent = {};
    const [oldRange] = cache.translate(old, content.length, read, 0, PAGE);
    allocator.incRef(oldRange.memfdOffset, PAGE); // a mapping references the page
    cache.translate(recent, content.length, read, 0, 6 * PAGE);
    cache.translate(recent, content.length, read, 0, PAGE);
    // Both files do not fit: the old one went, and its page lives on for the mapping.
    expect(cache.cachedBytes).toBe(6 * PAGE);
    expect(allocator.refCount(oldRange.memfdOffset)).toBe(1);
    const again = cache.translate(old, content.length, read, 0, PAGE);
    expect(again[0].memfdOffset).not.toBe(oldRange.memfdOffset);
    cache.clear();
    expect(cache.cachedBytes).toBe(0);
    expect(allocator.usedBytes).toBe(PAGE);
  });

  it("ends where a file turns out shorter than it said", () => {
    const cache = new PageCache(memoryFile, allocator);
    const ranges = cache.translate({}, 64 * PAGE, read, 0, 64 * PAGE);
    expect(ranges.reduce((sum, range) => sum + range.length, 0)).toBe(6 * PAGE);
  });
});
