import { MemoryFile } from "../src/memory-file";
import { MemoryManager, type MemoryManagerOptions } from "../src/memory-manager";
import type { MemfdRange, Mappable } from "../src/mappable";
import { PageAllocator } from "../src/page-allocator";
import { RecordingAddressSpace } from "./recording-address-space";

export const PAGE = 4096;
export const MiB = 1 << 20;
/** A user range like x86-64's: 64 KiB up to the end of the lower half. */
export const USER_START = 0x10000;
export const USER_END = 0x7ffffffff000;

/** A memory manager over a real memfd and a recording address space. */
export interface Fixture {
  readonly file: MemoryFile;
  readonly allocator: PageAllocator;
  readonly as: RecordingAddressSpace;
  readonly mm: MemoryManager;
  /** Forks `parent` (default `mm`) into a new recording address space; close() releases the child. */
  fork(parent?: MemoryManager): { mm: MemoryManager; as: RecordingAddressSpace };
  /** Releases every memory manager made and closes the memfd. */
  close(): void;
}

/** Makes a fixture; call close() in afterEach so a failed test cleans up too. */
export function makeFixture(options: Partial<MemoryManagerOptions> = {}): Fixture {
  const file = MemoryFile.create("mm-test");
  const allocator = new PageAllocator(file);
  const as = new RecordingAddressSpace();
  const mm = new MemoryManager({
    memoryFile: file,
    allocator,
    addressSpace: as,
    userRange: { start: USER_START, end: USER_END },
    reservedRanges: [],
    ...options,
  });
  const children: MemoryManager[] = [];
  return {
    file,
    allocator,
    as,
    mm,
    fork: (parent = mm) => {
      const childAs = new RecordingAddressSpace();
      const child = parent.fork(childAs);
      children.push(child);
      return { mm: child, as: childAs };
    },
    close: () => {
      try {
        for (const child of children) {
          child.release();
        }
        mm.release();
      } finally {
        file.close();
      }
    },
  };
}

/** A read-only file of fixed contents that can only be mapped privately. */
export class BytesFile implements Mappable {
  constructor(
    readonly name: string,
    readonly data: Uint8Array,
  ) {}

  readAt(offset: number, target: Uint8Array): number {
    if (offset >= this.data.length) {
      return 0;
    }
    const piece = this.data.subarray(offset, offset + target.length);
    target.set(piece);
    return piece.length;
  }
}

/**
 * A tmpfs-like file whose pages live in the memory file, so it can be
 * mapped MAP_SHARED; its pages are allocated on first use.
 */
export class MemfdFile implements Mappable {
  readonly pages = new Map<number, number>();
  mappings = 0;

  constructor(
    readonly name: string,
    readonly allocator: PageAllocator,
    public size: number,
  ) {}

  readAt(offset: number, target: Uint8Array): number {
    const end = Math.min(this.size, offset + target.length);
    for (let position = offset; position < end; ) {
      const page = Math.floor(position / PAGE);
      const inPage = position % PAGE;
      const length = Math.min(end - position, PAGE - inPage);
      const memfdOffset = this.pages.get(page);
      const view = target.subarray(position - offset, position - offset + length);
      if (memfdOffset === undefined) {
        view.fill(0);
      } else {
        this.allocator.file.read(memfdOffset + inPage, view);
      }
      position += length;
    }
    return Math.max(0, end - offset);
  }

  translate(offset: number, length: number): readonly MemfdRange[] {
    const end = Math.min(Math.ceil(this.size / PAGE) * PAGE, offset + length);
    const ranges: MemfdRange[] = [];
    for (let position = offset; position < end; position += PAGE) {
      const memfdOffset = this.pageAt(position / PAGE);
      const last = ranges[ranges.length - 1];
      if (last !== undefined && last.memfdOffset + last.length === memfdOffset) {
        ranges[ranges.length - 1] = { memfdOffset: last.memfdOffset, length: last.length + PAGE };
      } else {
        ranges.push({ memfdOffset, length: PAGE });
      }
    }
    return ranges;
  }

  /** Writes `data` into the file at `offset`, as write(2) on tmpfs would. */
  write(offset: number, data: Uint8Array): void {
    for (let i = 0; i < data.length; i++) {
      const position = offset + i;
      this.allocator.file.write(this.pageAt(Math.floor(position / PAGE)) + (position % PAGE), data.subarray(i, i + 1));
    }
    this.size = Math.max(this.size, offset + data.length);
  }

  addMapping(): void {
    this.mappings++;
  }

  removeMapping(): void {
    this.mappings--;
  }

  /** Drops the file's own page references, as unlinking a tmpfs file would. */
  release(): void {
    for (const memfdOffset of this.pages.values()) {
      this.allocator.decRef(memfdOffset, PAGE);
    }
    this.pages.clear();
  }

  private pageAt(page: number): number {
    let memfdOffset = this.pages.get(page);
    if (memfdOffset === undefined) {
      memfdOffset = this.allocator.allocate(PAGE);
      this.pages.set(page, memfdOffset);
    }
    return memfdOffset;
  }
}
