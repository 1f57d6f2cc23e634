import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PAGE_SIZE } from "./flags";
import { MemoryFile } from "./memory-file";
import { PageAllocator } from "./page-allocator";
import { SHARED_MEMORY_CHUNK_SIZE, SharedAnonymousMemory } from "./shared-anonymous-memory";

const PAGE = PAGE_SIZE;

describe("SharedAnonymousMemory", () => {
  let file: MemoryFile;
  let allocator: PageAllocator;

  beforeEach(() => {
    file = MemoryFile.create("mm-shm-test");
    allocator = new PageAllocator(file);
  });

  afterEach(() => {
    file.close();
  });

  it("allocates chunks on first use", () => {
    const memory = new SharedAnonymousMemory(allocator, 3 * SHARED_MEMORY_CHUNK_SIZE);
    memory.addMapping();
    expect(allocator.usedBytes).toBe(0);
    const ranges = memory.translate(SHARED_MEMORY_CHUNK_SIZE - PAGE, 2 * PAGE, false);
    expect(ranges.reduce((sum, range) => sum + range.length, 0)).toBe(2 * PAGE);
    expect(allocator.usedBytes).toBe(2 * SHARED_MEMORY_CHUNK_SIZE);
    expect(memory.translate(SHARED_MEMORY_CHUNK_SIZE - PAGE, PAGE, true)).toEqual([{ memfdOffset: ranges[0].memfdOffset, length: PAGE }]);
    memory.removeMapping();
    expect(allocator.usedBytes).toBe(0);
  });

  it("stops translating at its size", () => {
    const memory = new SharedAnonymousMemory(allocator, 2 * PAGE + 1);
    memory.addMapping();
    expect(memory.size).toBe(3 * PAGE);
    expect(memory.translate(2 * PAGE, 4 * PAGE, false)).toEqual([{ memfdOffset: expect.any(Number), length: PAGE }]);
    expect(memory.translate(3 * PAGE, PAGE, false)).toEqual([]);
    memory.removeMapping();
  });

  it("reads, punches holes and reads zeros", () => {
    const memory = new SharedAnonymousMemory(allocator, 2 * PAGE);
    memory.addMapping();
    const [range] = memory.translate(0, 2 * PAGE, true);
    file.write(range.memfdOffset + 10, Uint8Array.of(1, 2));
    const target = new Uint8Array(4);
    expect(memory.readAt(9, target)).toBe(4);
    expect([...target]).toEqual([0, 1, 2, 0]);
    memory.punchHole(0, PAGE);
    memory.readAt(9, target);
    expect([...target]).toEqual([0, 0, 0, 0]);
    memory.removeMapping();
    expect(() => memory.translate(0, PAGE, false)).toThrow(/after its last mapping/);
  });
});
