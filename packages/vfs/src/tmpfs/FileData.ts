import { Errno, SyscallError } from "@sandbox/abi";
import { SEEK_DATA } from "../constants";

/** Size of one page of file contents in bytes. */
export const PAGE_SIZE = 4096;

/**
 * The contents of an in-memory regular file, kept as a sparse set of pages.
 * A page that was never written is a hole and reads as zeros, so a file
 * truncated to a large size costs no memory. Sizes and offsets are numbers,
 * so the largest file is Number.MAX_SAFE_INTEGER bytes.
 */
export class FileData {
  private readonly pages = new Map<number, Uint8Array>();
  private length = 0;

  /** The file size in bytes. */
  get size(): number {
    return this.length;
  }

  /** Number of pages that hold data (the rest are holes). */
  get allocatedPages(): number {
    return this.pages.size;
  }

  /** Copies bytes at `offset` into `dst` and returns the count, 0 at or past the end. */
  read(dst: Uint8Array, offset: number): number {
    const count = Math.max(0, Math.min(dst.length, this.length - offset));
    let done = 0;
    while (done < count) {
      const at = offset + done;
      const index = Math.floor(at / PAGE_SIZE);
      const start = at - index * PAGE_SIZE;
      const chunk = Math.min(PAGE_SIZE - start, count - done);
      const page = this.pages.get(index);
      if (page === undefined) {
        dst.fill(0, done, done + chunk);
      } else {
        dst.set(page.subarray(start, start + chunk), done);
      }
      done += chunk;
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
      const index = Math.floor(at / PAGE_SIZE);
      const start = at - index * PAGE_SIZE;
      const chunk = Math.min(PAGE_SIZE - start, src.length - done);
      let page = this.pages.get(index);
      if (page === undefined) {
        page = new Uint8Array(PAGE_SIZE);
        this.pages.set(index, page);
      }
      page.set(src.subarray(done, done + chunk), start);
      done += chunk;
    }
    this.length = Math.max(this.length, offset + src.length);
  }

  /** Sets the size. Shrinking frees the pages past the end and zeroes the tail of the last one. */
  truncate(size: number): void {
    if (size > Number.MAX_SAFE_INTEGER) {
      throw new SyscallError(Errno.EFBIG);
    }
    if (size < this.length) {
      const lastIndex = Math.floor(size / PAGE_SIZE);
      for (const index of [...this.pages.keys()]) {
        if (index > lastIndex || (index === lastIndex && size % PAGE_SIZE === 0)) {
          this.pages.delete(index);
        }
      }
      this.pages.get(lastIndex)?.fill(0, size % PAGE_SIZE);
    }
    this.length = size;
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
      const isData = this.pages.has(index);
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

  private nextDataPage(from: number): number | undefined {
    let best: number | undefined;
    for (const index of this.pages.keys()) {
      if (index >= from && (best === undefined || index < best)) {
        best = index;
      }
    }
    return best;
  }
}
