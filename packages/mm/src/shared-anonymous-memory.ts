import { isPageAligned, pageAlignUp } from "./address";
import type { MemfdRange, Mappable } from "./mappable";
import type { PageAllocator } from "./page-allocator";

/** Bytes of memory file allocated at once for a shared object (sparse until written). */
const CHUNK_SIZE = 2 << 20;

/**
 * Memory behind MAP_SHARED|MAP_ANONYMOUS: a zero-filled object of a fixed
 * size whose pages are shared by every mapping of it, also across fork.
 * Pages are allocated in 2 MiB chunks on first use; a chunk costs host
 * memory only for the pages written. The object frees its pages when the
 * last mapping of it goes away.
 */
export class SharedAnonymousMemory implements Mappable {
  /** Name Linux shows in /proc/PID/maps for shared anonymous memory. */
  readonly name = "/dev/zero (deleted)";
  /** Size of the object in bytes, a multiple of PAGE_SIZE. */
  readonly size: number;

  private readonly chunks = new Map<number, number>();
  private mappings = 0;
  private released = false;

  constructor(
    private readonly allocator: PageAllocator,
    size: number,
  ) {
    if (!Number.isSafeInteger(size) || size <= 0) {
      throw new RangeError(`invalid shared memory size ${size}`);
    }
    this.size = pageAlignUp(size);
  }

  /** Copies bytes of the object into `target`; holes read as zeros. */
  readAt(offset: number, target: Uint8Array): number {
    const end = Math.min(this.size, offset + target.length);
    let position = offset;
    while (position < end) {
      const chunk = Math.floor(position / CHUNK_SIZE);
      const inChunk = position - chunk * CHUNK_SIZE;
      const length = Math.min(end - position, CHUNK_SIZE - inChunk);
      const view = target.subarray(position - offset, position - offset + length);
      const memfdOffset = this.chunks.get(chunk);
      if (memfdOffset === undefined) {
        view.fill(0);
      } else {
        this.allocator.file.read(memfdOffset + inChunk, view);
      }
      position += length;
    }
    return Math.max(0, end - offset);
  }

  /** Returns the pages behind [offset, offset+length), allocating missing chunks. */
  translate(offset: number, length: number, _write: boolean): readonly MemfdRange[] {
    this.checkUsable();
    if (!isPageAligned(offset) || !isPageAligned(length)) {
      throw new RangeError(`unaligned shared memory range: offset ${offset}, length ${length}`);
    }
    const end = Math.min(this.size, offset + length);
    const ranges: MemfdRange[] = [];
    let position = offset;
    while (position < end) {
      const chunk = Math.floor(position / CHUNK_SIZE);
      const inChunk = position - chunk * CHUNK_SIZE;
      const rangeLength = Math.min(end - position, CHUNK_SIZE - inChunk);
      const memfdOffset = this.chunkOffset(chunk) + inChunk;
      const last = ranges[ranges.length - 1];
      if (last !== undefined && last.memfdOffset + last.length === memfdOffset) {
        ranges[ranges.length - 1] = { memfdOffset: last.memfdOffset, length: last.length + rangeLength };
      } else {
        ranges.push({ memfdOffset, length: rangeLength });
      }
      position += rangeLength;
    }
    return ranges;
  }

  /** Zeroes [offset, offset+length) and returns its host memory. */
  punchHole(offset: number, length: number): void {
    const end = Math.min(this.size, offset + length);
    let position = offset;
    while (position < end) {
      const chunk = Math.floor(position / CHUNK_SIZE);
      const inChunk = position - chunk * CHUNK_SIZE;
      const rangeLength = Math.min(end - position, CHUNK_SIZE - inChunk);
      const memfdOffset = this.chunks.get(chunk);
      if (memfdOffset !== undefined) {
        this.allocator.file.punchHole(memfdOffset + inChunk, rangeLength);
      }
      position += rangeLength;
    }
  }

  /** Counts one more mapping of the object. */
  addMapping(): void {
    this.checkUsable();
    this.mappings++;
  }

  /** Counts one mapping fewer and frees every page after the last one. */
  removeMapping(): void {
    if (this.mappings === 0) {
      throw new Error("removeMapping without a matching addMapping");
    }
    this.mappings--;
    if (this.mappings === 0) {
      this.release();
    }
  }

  /** Drops the object's references to its pages; mappings that still map them keep their own. */
  release(): void {
    if (this.released) {
      return;
    }
    this.released = true;
    for (const [chunk, memfdOffset] of this.chunks) {
      this.allocator.decRef(memfdOffset, this.chunkLength(chunk));
    }
    this.chunks.clear();
  }

  private chunkOffset(chunk: number): number {
    let memfdOffset = this.chunks.get(chunk);
    if (memfdOffset === undefined) {
      memfdOffset = this.allocator.allocate(this.chunkLength(chunk));
      this.chunks.set(chunk, memfdOffset);
    }
    return memfdOffset;
  }

  private chunkLength(chunk: number): number {
    return Math.min(CHUNK_SIZE, this.size - chunk * CHUNK_SIZE);
  }

  private checkUsable(): void {
    if (this.released) {
      throw new Error("shared anonymous memory used after its last mapping was removed");
    }
  }
}

/** Size of the chunks SharedAnonymousMemory allocates, exported for tests. */
export const SHARED_MEMORY_CHUNK_SIZE = CHUNK_SIZE;
