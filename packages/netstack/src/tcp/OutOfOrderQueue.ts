import { seqAdd, seqDiff, seqGEQ, seqGT, seqLEQ, seqLT } from "./seq";

interface Block {
  seq: number;
  data: Uint8Array;
}

/**
 * Segments received beyond rcv.nxt, kept as non-overlapping copies in
 * sequence order until the gap before them is filled. At most `maxBlocks`
 * blocks are kept; the window bounds their bytes.
 */
export class OutOfOrderQueue {
  private blocks: Block[] = [];
  private lastSeq = 0;

  constructor(private readonly maxBlocks = 1024) {}

  /** Number of blocks held. */
  get length(): number {
    return this.blocks.length;
  }

  /** Adds a copy of a segment's payload; returns false if it was dropped because the queue is full. */
  insert(seq: number, data: Uint8Array): boolean {
    this.lastSeq = seq;
    const list = this.blocks;
    let i = 0;
    while (i < list.length && seqLT(list[i].seq, seq)) i++;

    // Trim against the block before, and drop blocks the new one covers.
    const prev = list[i - 1];
    if (prev !== undefined) {
      const prevEnd = seqAdd(prev.seq, prev.data.length);
      if (seqGEQ(prevEnd, seqAdd(seq, data.length))) return true;
      if (seqGT(prevEnd, seq)) {
        data = data.subarray(seqDiff(prevEnd, seq));
        seq = prevEnd;
      }
    }
    const end = seqAdd(seq, data.length);
    while (i < list.length && seqLEQ(seqAdd(list[i].seq, list[i].data.length), end)) list.splice(i, 1);
    const next = list[i];
    if (next !== undefined && seqLT(next.seq, end)) data = data.subarray(0, seqDiff(next.seq, seq));
    if (data.length === 0) return true;
    if (list.length >= this.maxBlocks) return false;
    list.splice(i, 0, { seq, data });
    return true;
  }

  /**
   * Moves the blocks that now follow `rcvNxt` into the receive queue with
   * `write` (which returns the bytes it took), and returns the new rcv.nxt.
   */
  drain(rcvNxt: number, write: (data: Uint8Array, off: number, len: number) => number): number {
    while (this.blocks.length > 0) {
      const b = this.blocks[0];
      if (seqGT(b.seq, rcvNxt)) break;
      this.blocks.shift();
      const skip = seqDiff(rcvNxt, b.seq);
      if (skip < b.data.length) rcvNxt = seqAdd(rcvNxt, write(b.data, skip, b.data.length - skip));
    }
    return rcvNxt;
  }

  /** Returns up to `max` SACK blocks (start, end pairs); the one with the latest segment comes first (RFC 2018). */
  sackBlocks(max: number): number[] {
    const ranges: number[] = [];
    for (const b of this.blocks) {
      const e = seqAdd(b.seq, b.data.length);
      const n = ranges.length;
      if (n > 0 && ranges[n - 1] === b.seq) ranges[n - 1] = e;
      else ranges.push(b.seq, e);
    }
    const out: number[] = [];
    for (let i = 0; i < ranges.length; i += 2) {
      if (seqLEQ(ranges[i], this.lastSeq) && seqLT(this.lastSeq, ranges[i + 1])) {
        out.push(ranges[i], ranges[i + 1]);
        break;
      }
    }
    for (let i = 0; i < ranges.length && out.length < max * 2; i += 2) {
      if (out.length > 0 && out[0] === ranges[i]) continue;
      out.push(ranges[i], ranges[i + 1]);
    }
    return out;
  }

  /** Drops every block. */
  clear(): void {
    this.blocks = [];
  }
}
