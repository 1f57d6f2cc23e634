/**
 * A pool of packet buffers in power-of-two size classes from 256 bytes to
 * 128 KiB. A buffer handed to `release` must no longer be referenced by its
 * owner, since the next `alloc` of the same class hands it out again. At most
 * `maxPerClass` buffers are kept per class; the rest go to the garbage
 * collector, so the pool's memory is bounded.
 */
export class BufferPool {
  private readonly classes: Uint8Array[][] = [];

  /** Smallest class, as a power of two. */
  static readonly MIN_SHIFT = 8;
  /** Largest class, as a power of two (128 KiB). */
  static readonly MAX_SHIFT = 17;

  constructor(private readonly maxPerClass = 256) {
    for (let s = BufferPool.MIN_SHIFT; s <= BufferPool.MAX_SHIFT; s++) this.classes.push([]);
  }

  /** Returns a buffer of at least `size` bytes; its contents are undefined. */
  alloc(size: number): Uint8Array {
    const c = classOf(size);
    if (c < 0) return new Uint8Array(size);
    const list = this.classes[c];
    const b = list.pop();
    return b ?? new Uint8Array(1 << (c + BufferPool.MIN_SHIFT));
  }

  /** Gives `b` back to the pool; `b` must have come from `alloc`. */
  release(b: Uint8Array): void {
    if (b.byteOffset !== 0 || b.length !== b.buffer.byteLength) return;
    const c = classOf(b.length);
    if (c < 0 || 1 << (c + BufferPool.MIN_SHIFT) !== b.length) return;
    const list = this.classes[c];
    if (list.length < this.maxPerClass) list.push(b);
  }
}

function classOf(size: number): number {
  if (size > 1 << BufferPool.MAX_SHIFT) return -1;
  let c = 0;
  while (1 << (c + BufferPool.MIN_SHIFT) < size) c++;
  return c;
}

/** The pool shared by every stack and link endpoint of the process. */
export const defaultPool = new BufferPool();
