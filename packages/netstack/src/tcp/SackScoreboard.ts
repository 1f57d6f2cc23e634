import { seqDiff, seqGT, seqLEQ, seqLT } from "./seq";

/**
 * The sender's record of which bytes above snd.una the peer has reported
 * with SACK blocks (RFC 6675's scoreboard): sorted, merged ranges of
 * sequence numbers.
 */
export class SackScoreboard {
  // Start, end pairs in sequence order, all above snd.una.
  private ranges: number[] = [];
  /** Bytes covered by the ranges. */
  sackedBytes = 0;

  /** Reports whether no byte is recorded. */
  get empty(): boolean {
    return this.ranges.length === 0;
  }

  /** Returns the end of the highest range, or `una` when empty. */
  highest(una: number): number {
    return this.ranges.length > 0 ? this.ranges[this.ranges.length - 1] : una;
  }

  /** Adds `count` blocks (start, end pairs), ignoring those outside (una, max]. */
  update(blocks: Uint32Array, count: number, una: number, max: number): void {
    for (let i = 0; i < count; i++) {
      const s = blocks[i * 2];
      const e = blocks[i * 2 + 1];
      if (!seqLT(s, e) || seqLEQ(e, una) || seqGT(e, max)) continue;
      this.insert(seqLT(s, una) ? una : s, e);
    }
    this.recount();
  }

  private insert(s: number, e: number): void {
    const out: number[] = [];
    let placed = false;
    for (let i = 0; i < this.ranges.length; i += 2) {
      const bs = this.ranges[i];
      const be = this.ranges[i + 1];
      if (seqLT(be, s)) {
        out.push(bs, be);
      } else if (seqGT(bs, e)) {
        if (!placed) {
          out.push(s, e);
          placed = true;
        }
        out.push(bs, be);
      } else {
        s = seqLT(bs, s) ? bs : s;
        e = seqGT(be, e) ? be : e;
      }
    }
    if (!placed) out.push(s, e);
    this.ranges = out;
  }

  /** Drops what lies at or below the new snd.una. */
  trim(una: number): void {
    if (this.ranges.length === 0) return;
    const out: number[] = [];
    for (let i = 0; i < this.ranges.length; i += 2) {
      const s = this.ranges[i];
      const e = this.ranges[i + 1];
      if (seqLEQ(e, una)) continue;
      out.push(seqLT(s, una) ? una : s, e);
    }
    this.ranges = out;
    this.recount();
  }

  /** Forgets everything, as after a retransmission timeout. */
  clear(): void {
    this.ranges = [];
    this.sackedBytes = 0;
  }

  private recount(): void {
    let n = 0;
    for (let i = 0; i < this.ranges.length; i += 2) n += seqDiff(this.ranges[i + 1], this.ranges[i]);
    this.sackedBytes = n;
  }

  /** Returns the unsacked bytes from `from` up to the highest range: the ones presumed lost. */
  holeBytes(from: number): number {
    let lost = 0;
    let at = from;
    for (let i = 0; i < this.ranges.length; i += 2) {
      const s = this.ranges[i];
      const e = this.ranges[i + 1];
      if (seqLEQ(e, at)) continue;
      if (seqLT(at, s)) lost += seqDiff(s, at);
      at = e;
    }
    return lost;
  }

  /**
   * Returns the first unsacked range at or after `from` and below the
   * highest range, as [start, end], or null if there is none.
   */
  nextHole(from: number): [number, number] | null {
    let at = from;
    for (let i = 0; i < this.ranges.length; i += 2) {
      const s = this.ranges[i];
      const e = this.ranges[i + 1];
      if (seqLEQ(e, at)) continue;
      if (seqLEQ(s, at)) {
        at = e;
        continue;
      }
      return [at, s];
    }
    return null;
  }
}
