import { Errno, SyscallError } from "@sandbox/abi";
import { SEEK_DATA } from "../constants";

/** Size of one page of file contents in bytes. */
export const PAGE_SIZE = 4096;

/** Pages in one chunk of storage; a chunk's written pages are a 16-bit mask. */
const CHUNK_PAGES = 16;
/** Bytes of one chunk of storage. */
const CHUNK_SIZE = CHUNK_PAGES * PAGE_SIZE;

/**
 * One chunk of file contents: its bytes, in this process or in shared
 * pages, and which of its pages were written.
 */
interface Chunk {
  /** The bytes, for a chunk that lives in this process. */
  bytes?: Uint8Array;
  /** The offset of the chunk in the shared pages' file, for a chunk that lives there. */
  shared?: number;
  /** Bit i is set when page i of the chunk contains data. */
  written: number;
}

/**
 * Pages of memory that mappings can share, which file contents move into
 * when a file is mapped: the Sentry's memory file, through its page
 * allocator (mm's PageAllocator has this shape).
 */
export interface SharedPages {
  /** Returns the offset of `length` new bytes of zeros, with one reference. */
  allocate(length: number): number;
  /** Drops one reference to [offset, offset+length). */
  decRef(offset: number, length: number): void;
  readonly file: {
    read(offset: number, target: Uint8Array): void;
    write(offset: number, data: Uint8Array): void;
  };
}

/** A run of shared pages, as Mappable.translate returns it. */
export interface SharedRange {
  readonly memfdOffset: number;
  readonly length: number;
}

/**
 * Gives the shared chunks of a collected file back to the shared pages.
 * NOTE: so they return only when V8 collects the file, not at its last close.
 */
const sharedChunkRelease = new FinalizationRegistry<{ pages: SharedPages; chunks: Map<number, Chunk> }>(({ pages, chunks }) => {
  for (const chunk of chunks.values()) if (chunk.shared !== undefined) pages.decRef(chunk.shared, CHUNK_SIZE);
});


/** Counts the bits set in a 16-bit mask. */
function bitCount(mask: number): number {
  let count = 0;
  for (let bits = mask; bits !== 0; bits &= bits - 1) count++;
  return count;
}

/**
 * The contents of an in-memory regular file, kept as a sparse set of pages.
 * A page that was never written is a hole and reads as zeros, so a file
 * truncated to a large size costs no memory. Pages are stored in chunks of
 * 64 KiB, which keeps large files to few objects; holes and SEEK_DATA still
 * work page by page. Sizes and offsets are numbers, so the largest file is
 * Number.MAX_SAFE_INTEGER bytes.
 */
export class FileData {
  private readonly chunks = new Map<number, Chunk>();
  private length = 0;
  /** Set once the contents moved into shared pages for a mapping; new chunks go there too. */
  private pages: SharedPages | undefined;

  /** The file size in bytes. */
  get size(): number {
    return this.length;
  }

  /** Number of pages that hold data (the rest are holes). */
  get allocatedPages(): number {
    let pages = 0;
    for (const chunk of this.chunks.values()) pages += bitCount(chunk.written);
    return pages;
  }

  /** Copies bytes at `offset` into `dst` and returns the count, 0 at or past the end. */
  read(dst: Uint8Array, offset: number): number {
    const count = Math.max(0, Math.min(dst.length, this.length - offset));
    let done = 0;
    while (done < count) {
      const at = offset + done;
      const index = Math.floor(at / CHUNK_SIZE);
      const start = at - index * CHUNK_SIZE;
      const part = Math.min(CHUNK_SIZE - start, count - done);
      const chunk = this.chunks.get(index);
      if (chunk === undefined) {
        dst.fill(0, done, done + part);
      } else if (chunk.bytes !== undefined) {
        dst.set(chunk.bytes.subarray(start, start + part), done);
      } else {
        (this.pages as SharedPages).file.read((chunk.shared as number) + start, dst.subarray(done, done + part));
      }
      done += part;
    }
    return count;
  }

  /** Copies `src` to `offset`, growing the file if needed. Throws EFBIG past the maximum size. */
  write(src: Uint8Array, offset: number): void {
    if (offset + src.length > Number.MAX_SAFE_INTEGER) {
      throw new SyscallError(Errno.EFBIG);
    }
    let done = 0;
    while (done < src.length) {
      const at = offset + done;
      const index = Math.floor(at / CHUNK_SIZE);
      const start = at - index * CHUNK_SIZE;
      const part = Math.min(CHUNK_SIZE - start, src.length - done);
      const chunk = this.chunk(index);
      if (chunk.bytes !== undefined) {
        chunk.bytes.set(src.subarray(done, done + part), start);
      } else {
        (this.pages as SharedPages).file.write((chunk.shared as number) + start, src.subarray(done, done + part));
      }
      const firstPage = Math.floor(start / PAGE_SIZE);
      const lastPage = Math.floor((start + part - 1) / PAGE_SIZE);
      chunk.written |= ((1 << (lastPage + 1)) - 1) & ~((1 << firstPage) - 1);
      done += part;
    }
    this.length = Math.max(this.length, offset + src.length);
  }

  /** Sets the size. Shrinking frees the pages past the end and zeroes the tail of the last one. */
  truncate(size: number): void {
    if (size > Number.MAX_SAFE_INTEGER) {
      throw new SyscallError(Errno.EFBIG);
    }
    if (size < this.length) {
      const lastIndex = Math.floor(size / CHUNK_SIZE);
      for (const [index, chunk] of [...this.chunks]) {
        if (index > lastIndex) {
          this.dropChunk(index, chunk);
        } else if (index === lastIndex) {
          const start = size - index * CHUNK_SIZE;
          if (chunk.bytes !== undefined) chunk.bytes.fill(0, start);
          else (this.pages as SharedPages).file.write((chunk.shared as number) + start, new Uint8Array(CHUNK_SIZE - start));
          // A page keeps its data only if it starts before the new end.
          chunk.written &= (1 << Math.ceil(start / PAGE_SIZE)) - 1;
          if (chunk.written === 0) this.dropChunk(index, chunk);
        }
      }
    }
    this.length = size;
  }

  /**
   * Returns the shared pages behind [offset, offset+length) (both
   * page-aligned), for a mapping of the file. The first call moves the
   * contents into `pages`, where they stay, so that reads and writes see
   * what the mappings wrote and the other way round. Holes get zeroed
   * pages, which count as written. The ranges end with the page of the
   * file's last byte.
   */
  translate(pages: SharedPages, offset: number, length: number): SharedRange[] {
    this.share(pages);
    const end = Math.min(offset + length, Math.ceil(this.length / PAGE_SIZE) * PAGE_SIZE);
    const ranges: SharedRange[] = [];
    for (let position = offset; position < end; ) {
      const index = Math.floor(position / CHUNK_SIZE);
      const start = position - index * CHUNK_SIZE;
      const part = Math.min(CHUNK_SIZE - start, end - position);
      const chunk = this.chunk(index);
      const firstPage = start / PAGE_SIZE;
      const pageCount = Math.ceil(part / PAGE_SIZE);
      chunk.written |= ((1 << pageCount) - 1) << firstPage;
      const memfdOffset = (chunk.shared as number) + start;
      const last = ranges[ranges.length - 1];
      if (last !== undefined && last.memfdOffset + last.length === memfdOffset) {
        ranges[ranges.length - 1] = { memfdOffset: last.memfdOffset, length: last.length + part };
      } else {
        ranges.push({ memfdOffset, length: part });
      }
      position += part;
    }
    return ranges;
  }

  /** Moves the contents into `pages`, once; later chunks are allocated there. */
  private share(pages: SharedPages): void {
    if (this.pages !== undefined) return;
    this.pages = pages;
    sharedChunkRelease.register(this, { pages, chunks: this.chunks });
    for (const chunk of this.chunks.values()) {
      const bytes = chunk.bytes as Uint8Array;
      chunk.shared = pages.allocate(CHUNK_SIZE);
      pages.file.write(chunk.shared, bytes);
      chunk.bytes = undefined;
    }
  }

  /** Returns chunk `index`, creating an empty one where the file has a hole. */
  private chunk(index: number): Chunk {
    let chunk = this.chunks.get(index);
    if (chunk === undefined) {
      chunk = this.pages === undefined ? { bytes: new Uint8Array(CHUNK_SIZE), written: 0 } : { shared: this.pages.allocate(CHUNK_SIZE), written: 0 };
      this.chunks.set(index, chunk);
    }
    return chunk;
  }

  /**
   * Removes chunk `index`. Its shared pages go back, and mappings keep their
   * own references. NOTE: so a mapping still reads the old pages past a
   * shrunk end instead of getting SIGBUS.
   */
  private dropChunk(index: number, chunk: Chunk): void {
    this.chunks.delete(index);
    if (chunk.shared !== undefined) (this.pages as SharedPages).decRef(chunk.shared, CHUNK_SIZE);
  }

  /**
   * Returns the first offset at or after `offset` that contains data
   * (SEEK_DATA) or lies in a hole (SEEK_HOLE). The end of the file counts as
   * a hole. Throws ENXIO at or past the end, or when no data follows.
   */
  seekHole(offset: number, whence: number): number {
    if (offset >= this.length) {
      throw new SyscallError(Errno.ENXIO);
    }
    const lastIndex = Math.floor((this.length - 1) / PAGE_SIZE);
    for (let index = Math.floor(offset / PAGE_SIZE); index <= lastIndex; index++) {
      const isData = this.hasPage(index);
      if (isData === (whence === SEEK_DATA)) {
        return Math.max(offset, index * PAGE_SIZE);
      }
      if (whence === SEEK_DATA && !isData) {
        const next = this.nextDataPage(index);
        if (next === undefined) {
          throw new SyscallError(Errno.ENXIO);
        }
        index = next - 1;
      }
    }
    if (whence === SEEK_DATA) {
      throw new SyscallError(Errno.ENXIO);
    }
    return this.length;
  }

  /** Reports whether page `index` of the file contains data. */
  private hasPage(index: number): boolean {
    const chunk = this.chunks.get(Math.floor(index / CHUNK_PAGES));
    return chunk !== undefined && (chunk.written & (1 << index % CHUNK_PAGES)) !== 0;
  }

  /** Returns the first page at or after `from` that contains data, if any. */
  private nextDataPage(from: number): number | undefined {
    let best: number | undefined;
    for (const [index, chunk] of this.chunks) {
      for (let page = 0; page < CHUNK_PAGES; page++) {
        const global = index * CHUNK_PAGES + page;
        if ((chunk.written & (1 << page)) !== 0 && global >= from && (best === undefined || global < best)) {
          best = global;
        }
      }
    }
    return best;
  }
}
