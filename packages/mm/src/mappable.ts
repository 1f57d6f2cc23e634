/** A page-aligned range of the sandbox memory file. */
export interface MemfdRange {
  /** Byte offset in the memory file, a multiple of PAGE_SIZE. */
  readonly memfdOffset: number;
  /** Length in bytes, a multiple of PAGE_SIZE. */
  readonly length: number;
}

/**
 * An object that can be mapped into an application address space: a regular
 * file, a tmpfs file, shared anonymous memory. The Sentry or the VFS
 * implements it; mm calls it while it handles a fault or a system call.
 */
export interface Mappable {
  /** Name shown in /proc/PID/maps, usually the file's absolute path. */
  readonly name?: string;

  /**
   * Reads up to `target.length` bytes at byte offset `offset` into `target`
   * and returns how many were read, which is fewer only at the end of the
   * file. mm copies a private file mapping's pages through this method.
   * Pages that lie wholly past the end of the file raise SIGBUS when touched.
   */
  readAt(offset: number, target: Uint8Array): number;

  /**
   * Returns the memory-file pages that hold [offset, offset+length) of the
   * object, in order and without gaps; both arguments are page-aligned.
   * The ranges may cover less than `length` only where the object ends, and
   * pages wholly past the end raise SIGBUS. The pages must come from the
   * PageAllocator of the MemoryManager, which takes one reference of its own
   * on each page it maps. `write` is true when the access that needs the
   * pages is a write, so an object may allocate pages for holes lazily.
   *
   * Objects without this method cannot be mapped MAP_SHARED (mmap fails with
   * ENODEV); their private mappings are copied through `readAt`.
   */
  translate?(offset: number, length: number, write: boolean): readonly MemfdRange[];

  /**
   * Frees [offset, offset+length) of the object so it reads as zeros, for
   * madvise(MADV_REMOVE) on a shared mapping. Without it MADV_REMOVE fails
   * with EOPNOTSUPP.
   */
  punchHole?(offset: number, length: number): void;

  /** Counts one more VMA that maps the object. */
  addMapping?(): void;

  /** Counts one VMA fewer; the object may free itself when the count reaches zero and it has no other users. */
  removeMapping?(): void;
}
