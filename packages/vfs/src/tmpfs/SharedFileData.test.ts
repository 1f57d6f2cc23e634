// File contents that move into a real memory file when they are mapped.
import { Errno, SyscallError } from "@sandbox/abi";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MemoryFile } from "../../../mm/src/memory-file";
import { PageAllocator } from "../../../mm/src/page-allocator";
import { FileData, PAGE_SIZE } from "./FileData";
import { F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE, type TmpRegularFile } from "./TmpRegularFile";
import { TmpFileSystem } from "./TmpFileSystem";

let memoryFile: MemoryFile;
let allocator: PageAllocator;

beforeEach(() => {
  memoryFile = MemoryFile.create("vfs-shared-file-data");
  allocator = new PageAllocator(memoryFile);
});
afterEach(() => memoryFile.close());

/** Reads `length` bytes of the memory file at `offset`. */
function memoryAt(offset: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  memoryFile.read(offset, bytes);
  return bytes;
}

function errnoOf(call: () => unknown): number | undefined {
  try {
    call();
    return undefined;
  } catch (error) {
    if (error instanceof SyscallError) return error.errno;
    throw error;
  }
}

describe("FileData in shared pages", () => {
  it("moves its contents into the memory file when mapped", () => {
    const data = new FileData();
    data.write(new TextEncoder().encode("before"), PAGE_SIZE);
    const [range] = data.translate(allocator, 0, 2 * PAGE_SIZE);
    expect(range.length).toBe(2 * PAGE_SIZE);
    expect(new TextDecoder().decode(memoryAt(range.memfdOffset + PAGE_SIZE, 6))).toBe("before");
  });

  it("shares writes in both directions", () => {
    const data = new FileData();
    data.truncate(PAGE_SIZE);
    const [range] = data.translate(allocator, 0, PAGE_SIZE);
    data.write(new TextEncoder().encode("by write"), 0);
    expect(new TextDecoder().decode(memoryAt(range.memfdOffset, 8))).toBe("by write");
    memoryFile.write(range.memfdOffset, new TextEncoder().encode("by mapping"));
    const target = new Uint8Array(10);
    data.read(target, 0);
    expect(new TextDecoder().decode(target)).toBe("by mapping");
  });

  it("ends the ranges with the file's last page", () => {
    const data = new FileData();
    data.truncate(PAGE_SIZE + 1);
    const ranges = data.translate(allocator, 0, 8 * PAGE_SIZE);
    expect(ranges.reduce((sum, range) => sum + range.length, 0)).toBe(2 * PAGE_SIZE);
  });

  it("zeroes the tail when it shrinks", () => {
    const data = new FileData();
    data.write(new Uint8Array(PAGE_SIZE).fill(7), 0);
    const [range] = data.translate(allocator, 0, PAGE_SIZE);
    data.truncate(100);
    data.truncate(PAGE_SIZE);
    expect(memoryAt(range.memfdOffset + 100, PAGE_SIZE - 100).every((byte) => byte === 0)).toBe(true);
    expect(memoryAt(range.memfdOffset, 100).every((byte) => byte === 7)).toBe(true);
  });
});

describe("tmpfs seals", () => {
  function unlinkedFile(): TmpRegularFile {
    const fs = new TmpFileSystem({ dev: 1, sharedPages: allocator });
    return fs.createUnlinkedFile(0o777, { uid: 0, gid: 0 }, "/memfd:test (deleted)");
  }

  it("start sealed against new seals", () => {
    const impl = unlinkedFile().open(0);
    expect(impl.getSeals?.()).toBe(F_SEAL_SEAL);
    expect(errnoOf(() => impl.addSeals?.(F_SEAL_WRITE))).toBe(Errno.EPERM);
  });

  it("enforce write, shrink and grow seals", () => {
    const file = unlinkedFile();
    file.seals = 0;
    const impl = file.open(0);
    impl.write(new Uint8Array(10), 0);
    impl.addSeals?.(F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW);
    expect(errnoOf(() => impl.write(new Uint8Array(1), 0))).toBe(Errno.EPERM);
    expect(errnoOf(() => impl.truncate?.(5))).toBe(Errno.EPERM);
    expect(errnoOf(() => impl.truncate?.(20))).toBe(Errno.EPERM);
    expect(errnoOf(() => impl.addSeals?.(0x100))).toBe(Errno.EINVAL);
  });

  it("name the file for /proc", () => {
    expect(unlinkedFile().open(0).linkName).toBe("/memfd:test (deleted)");
  });
});
