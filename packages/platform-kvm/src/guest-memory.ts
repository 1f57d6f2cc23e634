/** Size of a guest page. */
export const PAGE_SIZE = 4096;

/**
 * The platform's own guest-physical memory: page tables and the trampoline
 * page, in a memory slot of their own at `gpaBase`. Pages are handed out
 * and taken back by index; page 0 onwards are reserved by the caller with
 * `allocate` like any other page.
 *
 * The bytes are borrowed from the mapping that backs the memory slot; they
 * stay valid until the platform closes.
 */
export class GuestMemory {
  /** A view of all bytes, for page-table entries. */
  readonly view: DataView;
  private readonly free: number[] = [];
  private next = 0;

  constructor(
    readonly bytes: Uint8Array,
    /** Guest-physical address of byte 0. */
    readonly gpaBase: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Number of pages in the memory. */
  get pageCount(): number {
    return this.bytes.byteLength / PAGE_SIZE;
  }

  /** Returns the index of a zeroed page; throws when the memory is full. */
  allocate(): number {
    const page = this.free.pop() ?? (this.next < this.pageCount ? this.next++ : -1);
    if (page < 0) throw new RangeError(`the KVM platform's page-table memory (${this.pageCount} pages) is full`);
    this.bytes.fill(0, page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
    return page;
  }

  /** Gives a page back. */
  release(page: number): void {
    this.free.push(page);
  }

  /** Guest-physical address of page `page`. */
  gpaOf(page: number): number {
    return this.gpaBase + page * PAGE_SIZE;
  }

  /** The page index of guest-physical address `gpa`, or -1 if it is not in this memory. */
  pageAt(gpa: number): number {
    const index = Math.floor((gpa - this.gpaBase) / PAGE_SIZE);
    return index >= 0 && index < this.pageCount ? index : -1;
  }
}
