/**
 * A ring buffer of bytes used for the send and receive queues of a TCP
 * connection. It stores at most `limit` bytes; its memory starts small and
 * doubles as data arrives, so an idle connection costs little. It keeps its
 * size once grown. Copies are done with at most two `set` calls.
 */
export class ByteRing {
  private buf: Uint8Array;
  private head = 0;
  private size = 0;

  constructor(private max: number, initial = 16 * 1024) {
    this.buf = new Uint8Array(Math.min(initial, max));
  }

  /** Bytes held. */
  get length(): number {
    return this.size;
  }

  /** Largest number of bytes the ring may hold. */
  get limit(): number {
    return this.max;
  }

  set limit(value: number) {
    this.max = Math.max(value, 1);
  }

  /** Bytes that can still be written before the limit. */
  get free(): number {
    return Math.max(0, this.max - this.size);
  }

  /** Appends up to `len` bytes of `src` from `off`; returns the count written. */
  write(src: Uint8Array, off: number, len: number): number {
    const n = Math.min(len, this.free);
    if (n === 0) return 0;
    if (this.size + n > this.buf.length) this.grow(this.size + n);
    const cap = this.buf.length;
    const tail = (this.head + this.size) % cap;
    const first = Math.min(n, cap - tail);
    this.buf.set(src.subarray(off, off + first), tail);
    if (n > first) this.buf.set(src.subarray(off + first, off + n), 0);
    this.size += n;
    return n;
  }

  /** Copies `len` bytes starting `offset` bytes after the head into `dst[dstOff..]`, without removing them. */
  peek(offset: number, dst: Uint8Array, dstOff: number, len: number): void {
    const cap = this.buf.length;
    const start = (this.head + offset) % cap;
    const first = Math.min(len, cap - start);
    dst.set(this.buf.subarray(start, start + first), dstOff);
    if (len > first) dst.set(this.buf.subarray(0, len - first), dstOff + first);
  }

  /** Removes `n` bytes from the head. */
  consume(n: number): void {
    n = Math.min(n, this.size);
    this.head = (this.head + n) % this.buf.length;
    this.size -= n;
    if (this.size === 0) this.head = 0;
  }

  private grow(need: number): void {
    let cap = this.buf.length;
    while (cap < need) cap *= 2;
    cap = Math.min(cap, Math.max(this.max, need));
    const next = new Uint8Array(cap);
    this.peek(0, next, 0, this.size);
    this.buf = next;
    this.head = 0;
  }
}
