import { Errno, PollEvents, SyscallError } from "@sandbox/abi";
import { WaiterQueue } from "../WaiterQueue";

/** Writes of up to this many bytes are atomic: all or nothing (Linux's PIPE_BUF). */
export const PIPE_BUF = 4096;

/** Capacity of a new pipe in bytes, as on Linux (16 pages). */
export const DEFAULT_PIPE_SIZE = 65536;

/** The largest capacity that F_SETPIPE_SZ grants without CAP_SYS_RESOURCE (Linux's default /proc/sys/fs/pipe-max-size). */
export const MAX_PIPE_SIZE = 1 << 20;

/** Page size that pipe capacities are rounded to. */
const PAGE_SIZE = 4096;
/**
 * The EAGAIN of an empty or full pipe, made once: a busy pipe fails a read
 * or write this way thousands of times a second, and a new error would
 * capture a stack trace each time.
 */
export const WOULD_BLOCK = new SyscallError(Errno.EAGAIN);

/** The largest capacity that F_SETPIPE_SZ accepts at all, even with CAP_SYS_RESOURCE. */
const HARD_MAX_PIPE_SIZE = 2 ** 31;

/**
 * The buffer and bookkeeping of one pipe, shared by its read and write ends:
 * an anonymous pipe from pipe2(2) or the pipe behind a FIFO.
 *
 * The data lives in a ring buffer of `capacity` bytes. The pipe counts the
 * open readers and writers, and the readers and writers ever opened, which
 * FIFO opens need. Its calls never block: they throw EAGAIN, and `queue`
 * wakes waiters when data, room or a hang-up may have come.
 */
export class Pipe {
  /** Waiters for POLLIN, POLLOUT, POLLHUP and POLLERR on any end. */
  readonly queue = new WaiterQueue();
  private buffer: Uint8Array;
  /** Index of the first unread byte in `buffer`. */
  private head = 0;
  /** Number of unread bytes. */
  private length = 0;
  private openReaders = 0;
  private openWriters = 0;
  private readerOpenCount = 0;
  private writerOpenCount = 0;

  constructor(capacity = DEFAULT_PIPE_SIZE) {
    this.buffer = new Uint8Array(capacity);
  }

  /** Size of the buffer in bytes (F_GETPIPE_SZ). */
  get capacity(): number {
    return this.buffer.length;
  }

  /** Number of bytes waiting to be read (FIONREAD). */
  get size(): number {
    return this.length;
  }

  /** Number of open read ends (an O_RDWR FIFO end counts as one reader and one writer). */
  get readers(): number {
    return this.openReaders;
  }

  /** Number of open write ends. */
  get writers(): number {
    return this.openWriters;
  }

  /** Number of read ends ever opened. A FIFO open waits for this to change. */
  get readerOpens(): number {
    return this.readerOpenCount;
  }

  /** Number of write ends ever opened. */
  get writerOpens(): number {
    return this.writerOpenCount;
  }

  /** Records a new read end and wakes writers that wait for one. */
  openReader(): void {
    this.openReaders++;
    this.readerOpenCount++;
    this.queue.notify(PollEvents.POLLOUT | PollEvents.POLLWRNORM);
  }

  /** Records a new write end and wakes readers that wait for one. */
  openWriter(): void {
    this.openWriters++;
    this.writerOpenCount++;
    this.queue.notify(PollEvents.POLLIN | PollEvents.POLLRDNORM);
  }

  /** Drops a read end. When the last one goes, writers get POLLERR and EPIPE. */
  closeReader(): void {
    if (this.openReaders <= 0) {
      throw new Error("Pipe.closeReader without an open reader");
    }
    this.openReaders--;
    this.discardIfUnused();
    if (this.openReaders === 0) {
      this.queue.notify(PollEvents.POLLERR | PollEvents.POLLOUT);
    }
  }

  /** Drops a write end. When the last one goes, readers get POLLHUP and then end of file. */
  closeWriter(): void {
    if (this.openWriters <= 0) {
      throw new Error("Pipe.closeWriter without an open writer");
    }
    this.openWriters--;
    this.discardIfUnused();
    if (this.openWriters === 0) {
      this.queue.notify(PollEvents.POLLHUP | PollEvents.POLLIN);
    }
  }

  /**
   * Reads up to dst.length bytes. Returns 0 for an empty `dst` or, once no
   * writer is left, at the end of the data. Throws EAGAIN while the pipe is
   * empty and a writer is open.
   */
  read(dst: Uint8Array): number {
    if (dst.length === 0) {
      return 0;
    }
    if (this.length === 0) {
      if (this.openWriters === 0) {
        return 0;
      }
      throw WOULD_BLOCK;
    }

    const count = Math.min(dst.length, this.length);
    const firstPart = Math.min(count, this.buffer.length - this.head);
    dst.set(this.buffer.subarray(this.head, this.head + firstPart), 0);
    if (count > firstPart) {
      dst.set(this.buffer.subarray(0, count - firstPart), firstPart);
    }
    this.head = (this.head + count) % this.buffer.length;
    this.length -= count;
    if (this.length === 0) {
      this.head = 0;
    }
    this.queue.notify(PollEvents.POLLOUT | PollEvents.POLLWRNORM);
    return count;
  }

  /**
   * Writes `src` and returns the count written. A write of up to PIPE_BUF
   * bytes goes in whole or throws EAGAIN. A larger one writes what fits
   * and throws EAGAIN only when nothing fits. Throws EPIPE when no reader is
   * open; the caller then sends SIGPIPE.
   */
  write(src: Uint8Array): number {
    if (this.openReaders === 0) {
      throw new SyscallError(Errno.EPIPE);
    }
    if (src.length === 0) {
      return 0;
    }
    const room = this.buffer.length - this.length;
    if (room === 0 || (src.length <= PIPE_BUF && room < src.length)) {
      throw WOULD_BLOCK;
    }

    const count = Math.min(src.length, room);
    const tail = (this.head + this.length) % this.buffer.length;
    const firstPart = Math.min(count, this.buffer.length - tail);
    this.buffer.set(src.subarray(0, firstPart), tail);
    if (count > firstPart) {
      this.buffer.set(src.subarray(firstPart, count), 0);
    }
    this.length += count;
    this.queue.notify(PollEvents.POLLIN | PollEvents.POLLRDNORM);
    return count;
  }

  /** Reports whether a read would return data or end of file now. */
  get readable(): boolean {
    return this.length > 0;
  }

  /** Reports whether a write of PIPE_BUF bytes would go in now. */
  get writable(): boolean {
    return this.buffer.length - this.length >= PIPE_BUF;
  }

  /**
   * Implements F_SETPIPE_SZ: rounds `size` up to a power-of-two number of
   * pages (at least one page) and returns the new capacity. Throws EPERM
   * above MAX_PIPE_SIZE unless `privileged` (CAP_SYS_RESOURCE), EINVAL for
   * a size above 2^31 or not an integer, and EBUSY if the data waiting in
   * the pipe would not fit.
   */
  setCapacity(size: number, privileged = false): number {
    if (!Number.isInteger(size) || size < 0 || size > HARD_MAX_PIPE_SIZE) {
      throw new SyscallError(Errno.EINVAL, `invalid pipe size ${size}`);
    }
    let capacity = PAGE_SIZE;
    while (capacity < size) {
      capacity *= 2;
    }
    if (capacity > MAX_PIPE_SIZE && !privileged) {
      throw new SyscallError(Errno.EPERM, `pipe size ${capacity} exceeds the limit of ${MAX_PIPE_SIZE} bytes`);
    }
    if (capacity < this.length) {
      throw new SyscallError(Errno.EBUSY, `cannot shrink the pipe to ${capacity} bytes: it contains ${this.length} unread bytes`);
    }
    if (capacity === this.buffer.length) {
      return capacity;
    }

    const next = new Uint8Array(capacity);
    const firstPart = Math.min(this.length, this.buffer.length - this.head);
    next.set(this.buffer.subarray(this.head, this.head + firstPart), 0);
    next.set(this.buffer.subarray(0, this.length - firstPart), firstPart);
    this.buffer = next;
    this.head = 0;
    this.queue.notify(PollEvents.POLLOUT | PollEvents.POLLWRNORM);
    return capacity;
  }

  /** Drops the data once no end is open, as Linux frees the buffer of a FIFO when its last end closes. */
  private discardIfUnused(): void {
    if (this.openReaders === 0 && this.openWriters === 0) {
      this.head = 0;
      this.length = 0;
    }
  }
}
