import { closeSync, fstatSync, ftruncateSync, readSync, writeSync } from "node:fs";
import type { MemoryFile as PlatformMemoryFile } from "@sandbox/platform";
import { PAGE_SIZE } from "./flags";
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, MFD_CLOEXEC, fallocate, memfdCreate } from "./memory-file.native";

/** A host operation on the memory file failed; `errno` is the host's error number. */
export class MemoryFileError extends Error {
  constructor(
    readonly errno: number,
    message: string,
  ) {
    super(`${message}: host errno ${errno}`);
    this.name = "MemoryFileError";
  }
}

/**
 * The memfd that backs all application memory of one sandbox. Offsets and
 * lengths are in bytes. The file is sparse, so growing it costs no memory
 * until a page is written, and punching a hole gives the page back to the host.
 *
 * The descriptor is owned by this object and closed by `close()`; platforms
 * that map it borrow it and must not close it.
 */
export class MemoryFile implements PlatformMemoryFile {
  private closed = false;

  private constructor(
    readonly fd: number,
    private currentSize: number,
  ) {}

  /** Creates an empty memfd named `name` (shown in the host's /proc/PID/maps), close-on-exec. */
  static create(name: string): MemoryFile {
    const fd = memfdCreate(name, MFD_CLOEXEC);
    if (fd < 0) {
      throw new MemoryFileError(-fd, `memfd_create(${JSON.stringify(name)}) failed`);
    }
    return new MemoryFile(fd, 0);
  }

  /** The current length of the file in bytes. */
  get size(): number {
    return this.currentSize;
  }

  /** Extends the file to at least `size` bytes with ftruncate(2); never shrinks it. */
  grow(size: number): void {
    this.checkOpen();
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new RangeError(`invalid memory file size ${size}`);
    }
    if (size <= this.currentSize) {
      return;
    }
    ftruncateSync(this.fd, size);
    this.currentSize = size;
  }

  /** Fills `target` with the bytes at `offset`; the whole range must lie inside the file. */
  read(offset: number, target: Uint8Array): void {
    this.checkRange(offset, target.length);
    let done = 0;
    while (done < target.length) {
      const n = readSync(this.fd, target, done, target.length - done, offset + done);
      if (n === 0) {
        throw new MemoryFileError(0, `short read of the memory file at offset ${offset + done}`);
      }
      done += n;
    }
  }

  /** Writes all of `data` at `offset`; the whole range must lie inside the file. */
  write(offset: number, data: Uint8Array): void {
    this.checkRange(offset, data.length);
    let done = 0;
    while (done < data.length) {
      done += writeSync(this.fd, data, done, data.length - done, offset + done);
    }
  }

  /**
   * Writes `data` (a whole number of pages) at `offset`, skipping pages of
   * zeros. For pages that are new or were punched, which read as zeros
   * already: writing zeros would only cost host memory.
   */
  writeNonZeroPages(offset: number, data: Uint8Array): void {
    if (data.length % PAGE_SIZE !== 0 || data.byteOffset % 4 !== 0) {
      throw new RangeError(`writeNonZeroPages needs whole, aligned pages, got ${data.length} bytes at byte ${data.byteOffset}`);
    }
    const words = new Uint32Array(data.buffer, data.byteOffset, data.length / 4);
    let runStart = -1;
    for (let page = 0; page <= data.length; page += PAGE_SIZE) {
      const zero = page < data.length && isZeroPage(words, page / 4);
      if (page < data.length && !zero) {
        if (runStart < 0) runStart = page;
      } else if (runStart >= 0) {
        this.write(offset + runStart, data.subarray(runStart, page));
        runStart = -1;
      }
    }
  }

  /**
   * Frees the host memory of [offset, offset+length) with
   * fallocate(FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE); the range then reads as zeros.
   */
  punchHole(offset: number, length: number): void {
    this.checkRange(offset, length);
    if (length === 0) {
      return;
    }
    const result = fallocate(this.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length);
    if (result < 0) {
      throw new MemoryFileError(-result, `fallocate(PUNCH_HOLE, ${offset}, ${length}) failed`);
    }
  }

  /** Returns the host memory the file uses, in bytes (st_blocks * 512 from fstat(2)). */
  allocatedBytes(): number {
    this.checkOpen();
    return fstatSync(this.fd).blocks * 512;
  }

  /** Closes the descriptor. Idempotent. */
  close(): void {
    if (this.closed) {
      return;
    }
    this.closed = true;
    closeSync(this.fd);
  }

  private checkOpen(): void {
    if (this.closed) {
      throw new Error("the memory file is closed");
    }
  }

  private checkRange(offset: number, length: number): void {
    this.checkOpen();
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new RangeError(`invalid memory file range: offset ${offset}, length ${length}`);
    }
    if (offset + length > this.currentSize) {
      throw new RangeError(
        `memory file range [${offset}, ${offset + length}) is past the end of the file (${this.currentSize} bytes)`,
      );
    }
  }
}

/** Reports whether the page of 32-bit words starting at `first` is all zeros. */
function isZeroPage(words: Uint32Array, first: number): boolean {
  for (let i = first; i < first + PAGE_SIZE / 4; i++) {
    if (words[i] !== 0) return false;
  }
  return true;
}
