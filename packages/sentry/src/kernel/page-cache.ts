import type { Mappable, MemfdRange, MemoryFile, PageAllocator } from "@sandbox/mm";

const PAGE_SIZE = 4096;
/** Bytes of file pages the cache keeps by default; past it, the files mapped least recently are dropped. */
export const DEFAULT_PAGE_CACHE_BYTES = 256 << 20;
/** Bytes a fill reads from the file at once. */
const FILL_CHUNK = 256 << 10;

/** Reads up to `target.length` bytes of a file at `offset`; returns the count, 0 at the end. */
export type FileReader = (offset: number, target: Uint8Array) => number;

/** The cached pages of one file. */
interface CachedFile {
  /** Memory file offset of each cached page, by page index in the file. */
  readonly pages: Map<number, number>;
  bytes: number;
}

/**
 * The Sentry's page cache for files whose content cannot change while the
 * sandbox runs (FileDescriptionImpl.contentKey): their pages are read from
 * the host once into the memory file, and every mapping of the file, in any
 * process, maps those pages. A private mapping gets its own copy of a page
 * only when it writes to it (copy-on-write), as on Linux.
 *
 * The cache holds one reference to each page. Past its budget it drops the
 * files mapped least recently; pages still mapped stay until unmapped.
 */
export class PageCache {
  /** Cached files by content key, least recently used first. */
  private readonly files = new Map<object, CachedFile>();
  private bytes = 0;
  private readonly scratch = new Uint8Array(FILL_CHUNK);

  constructor(
    private readonly memoryFile: MemoryFile,
    private readonly allocator: PageAllocator,
    readonly budgetBytes = DEFAULT_PAGE_CACHE_BYTES,
  ) {}

  /** Bytes of file pages in the cache now. */
  get cachedBytes(): number {
    return this.bytes;
  }

  /**
   * Returns the memory file pages of [offset, offset+length) of the file
   * `key` names, `size` bytes long, reading missing ones through `read`.
   * The ranges end with the page of the file's last byte (Mappable.translate).
   */
  translate(key: object, size: number, read: FileReader, offset: number, length: number): MemfdRange[] {
    const file = this.use(key);
    const end = Math.min(offset + length, Math.ceil(size / PAGE_SIZE) * PAGE_SIZE);
    const ranges: MemfdRange[] = [];
    for (let cursor = offset; cursor < end; cursor += PAGE_SIZE) {
      let page = file.pages.get(cursor / PAGE_SIZE);
      if (page === undefined) {
        let missingEnd = cursor + PAGE_SIZE;
        while (missingEnd < end && !file.pages.has(missingEnd / PAGE_SIZE)) missingEnd += PAGE_SIZE;
        this.fill(file, read, cursor, missingEnd);
        page = file.pages.get(cursor / PAGE_SIZE);
        // The file is shorter than its size: it ends here.
        if (page === undefined) break;
      }
      const last = ranges[ranges.length - 1];
      if (last !== undefined && last.memfdOffset + last.length === page) {
        ranges[ranges.length - 1] = { memfdOffset: last.memfdOffset, length: last.length + PAGE_SIZE };
      } else {
        ranges.push({ memfdOffset: page, length: PAGE_SIZE });
      }
    }
    this.evict(key);
    return ranges;
  }

  /** Drops every cached page (the mappings keep theirs). */
  clear(): void {
    for (const file of this.files.values()) this.drop(file);
    this.files.clear();
  }

  /** Returns the cache entry of `key`, moved to the most recently used end. */
  private use(key: object): CachedFile {
    let file = this.files.get(key);
    if (file !== undefined) this.files.delete(key);
    else file = { pages: new Map(), bytes: 0 };
    this.files.set(key, file);
    return file;
  }

  /**
   * Reads [start, end) of the file into new pages of the memory file,
   * through one reused buffer: a new one per fill cost the Sentry fresh
   * heap pages, and so host page faults, each time.
   */
  private fill(file: CachedFile, read: FileReader, start: number, end: number): void {
    const offset = this.allocator.allocate(end - start);
    let done = 0;
    while (start + done < end) {
      const chunk = this.scratch.subarray(0, Math.min(FILL_CHUNK, end - start - done));
      let filled = 0;
      while (filled < chunk.length) {
        const count = read(start + done + filled, chunk.subarray(filled));
        if (!Number.isSafeInteger(count) || count <= 0 || count > chunk.length - filled) break;
        filled += count;
      }
      const size = Math.ceil(filled / PAGE_SIZE) * PAGE_SIZE;
      chunk.fill(0, filled, size);
      this.memoryFile.writeNonZeroPages(offset + done, chunk.subarray(0, size));
      done += size;
      if (filled < chunk.length) break;
    }
    // The file ended early: the pages past its end go back.
    if (start + done < end) this.allocator.decRef(offset + done, end - start - done);
    for (let index = 0; index < done / PAGE_SIZE; index++) file.pages.set(start / PAGE_SIZE + index, offset + index * PAGE_SIZE);
    file.bytes += done;
    this.bytes += done;
  }

  /** Drops the least recently used files other than `keep` while the cache is over budget. */
  private evict(keep: object): void {
    for (const [key, file] of this.files) {
      if (this.bytes <= this.budgetBytes) return;
      if (key === keep) continue;
      this.files.delete(key);
      this.drop(file);
    }
  }

  private drop(file: CachedFile): void {
    for (const page of file.pages.values()) this.allocator.decRef(page, PAGE_SIZE);
    this.bytes -= file.bytes;
    file.pages.clear();
    file.bytes = 0;
  }
}

/**
 * Adapts `mappable` (a private, copying mapping of a file) to map the
 * cached pages of the file `key` names instead.
 */
export function cachedMappable(cache: PageCache, key: object, size: number, mappable: Mappable): Mappable {
  const read: FileReader = (offset, target) => mappable.readAt(offset, target);
  return {
    name: mappable.name,
    readAt: mappable.readAt,
    translate: (offset, length) => cache.translate(key, size, read, offset, length),
    addMapping: mappable.addMapping,
    removeMapping: mappable.removeMapping,
  };
}
