import { Timer } from "../Timer";

interface Fragment {
  offset: number;
  data: Uint8Array;
}

interface Datagram {
  key: string;
  fragments: Fragment[];
  bytes: number;
  totalLength: number;
  firstSeen: number;
  hasFirst: boolean;
  /** Copy of the first fragment's network header, for the ICMP time exceeded message. */
  header: Uint8Array | null;
  context: unknown;
}

/** Reason a fragment was not accepted. */
export type ReassemblyDrop = "overlap" | "too-big" | "memory" | "count" | "bad-length";

/**
 * Fragment reassembly shared by IPv4 and IPv6. A datagram is held until all of
 * it has arrived, for at most `timeoutMs` (30 s by default, as Linux's
 * ipfrag_time). Memory is bounded: at most `maxBytes` of fragment data are
 * held in all (4 MiB by default, Linux's ipfrag_high_thresh), at most
 * `maxFragments` per datagram, and a datagram may not exceed 65535 bytes of
 * payload. Overlapping fragments drop the whole datagram, as Linux does
 * (RFC 5722); an exact duplicate is ignored.
 */
export class Reassembler {
  private readonly datagrams = new Map<string, Datagram>();
  private heldBytes = 0;
  private readonly timer: Timer;

  constructor(
    private readonly onTimeout: (header: Uint8Array | null, context: unknown) => void,
    private readonly onDrop: (reason: ReassemblyDrop) => void,
    readonly timeoutMs = 30_000,
    readonly maxBytes = 4 << 20,
    readonly maxFragments = 128,
  ) {
    this.timer = new Timer(() => this.expire());
  }

  /** Bytes of fragment data held now. */
  get bytesHeld(): number {
    return this.heldBytes;
  }

  /** Datagrams being reassembled now. */
  get pending(): number {
    return this.datagrams.size;
  }

  /**
   * Adds one fragment with payload `buf[off..off+len)` at byte `offset` of the
   * datagram. Returns the whole payload when this fragment completes it, else
   * null. `header` (copied) is kept from the first fragment.
   */
  add(
    key: string,
    offset: number,
    buf: Uint8Array,
    off: number,
    len: number,
    more: boolean,
    header: Uint8Array | null,
    context: unknown,
  ): Uint8Array | null {
    if ((more && (len & 7) !== 0) || len === 0 && more) {
      this.onDrop("bad-length");
      return null;
    }
    if (offset + len > 65535) {
      this.onDrop("too-big");
      this.discard(key);
      return null;
    }
    let d = this.datagrams.get(key);
    if (d === undefined) {
      if (this.heldBytes + len > this.maxBytes) this.evictOldest(len);
      if (this.heldBytes + len > this.maxBytes) {
        this.onDrop("memory");
        return null;
      }
      d = { key, fragments: [], bytes: 0, totalLength: -1, firstSeen: performance.now(), hasFirst: false, header: null, context };
      this.datagrams.set(key, d);
      if (!this.timer.pending) this.timer.set(this.timeoutMs);
    }

    if (!more) {
      const total = offset + len;
      if ((d.totalLength >= 0 && d.totalLength !== total) || total < this.maxEnd(d)) {
        this.onDrop("bad-length");
        this.discard(key);
        return null;
      }
      d.totalLength = total;
    } else if (d.totalLength >= 0 && offset + len > d.totalLength) {
      this.onDrop("bad-length");
      this.discard(key);
      return null;
    }

    // Find the insertion point and check for overlap with both neighbours.
    const frags = d.fragments;
    let i = 0;
    while (i < frags.length && frags[i].offset < offset) i++;
    const next = frags[i];
    if (next !== undefined && next.offset === offset && next.data.length === len) return null;
    const prev = frags[i - 1];
    if ((prev !== undefined && prev.offset + prev.data.length > offset) || (next !== undefined && offset + len > next.offset)) {
      this.onDrop("overlap");
      this.discard(key);
      return null;
    }
    if (frags.length >= this.maxFragments) {
      this.onDrop("count");
      this.discard(key);
      return null;
    }
    if (this.heldBytes + len > this.maxBytes) {
      this.onDrop("memory");
      this.discard(key);
      return null;
    }
    frags.splice(i, 0, { offset, data: buf.slice(off, off + len) });
    d.bytes += len;
    this.heldBytes += len;
    if (offset === 0) {
      d.hasFirst = true;
      d.header = header === null ? null : header.slice();
      d.context = context;
    }

    if (d.totalLength < 0 || d.bytes !== d.totalLength) return null;
    const out = new Uint8Array(d.totalLength);
    for (const f of frags) out.set(f.data, f.offset);
    this.discard(key);
    return out;
  }

  private maxEnd(d: Datagram): number {
    const last = d.fragments[d.fragments.length - 1];
    return last === undefined ? 0 : last.offset + last.data.length;
  }

  private discard(key: string): void {
    const d = this.datagrams.get(key);
    if (d === undefined) return;
    this.heldBytes -= d.bytes;
    this.datagrams.delete(key);
    if (this.datagrams.size === 0) this.timer.cancel();
  }

  private evictOldest(need: number): void {
    for (const d of this.datagrams.values()) {
      if (this.heldBytes + need <= this.maxBytes) return;
      this.onDrop("memory");
      this.discard(d.key);
    }
  }

  private expire(): void {
    const now = performance.now();
    for (const d of [...this.datagrams.values()]) {
      if (now - d.firstSeen < this.timeoutMs) continue;
      this.discard(d.key);
      this.onTimeout(d.hasFirst ? d.header : null, d.context);
    }
    let oldest = Infinity;
    for (const d of this.datagrams.values()) oldest = Math.min(oldest, d.firstSeen);
    if (oldest !== Infinity) this.timer.set(Math.max(1, oldest + this.timeoutMs - now));
  }

  /** Drops everything held. */
  clear(): void {
    this.datagrams.clear();
    this.heldBytes = 0;
    this.timer.cancel();
  }
}
