import { defaultPool } from "../BufferPool";
import {
  CAP_TX_CHECKSUM_OFFLOAD,
  type LinkEndpoint,
  type NetworkDispatcher,
  RX_CHECKSUM_VALID,
  randomMac,
  type TxOffload,
} from "./LinkEndpoint";
import { Random } from "./Random";

/** Impairments and limits of one direction of an in-memory link. */
export interface MemoryLinkOptions {
  /** Largest IP packet; default 1500. */
  mtu?: number;
  /** Probability that a frame is lost, 0..1. */
  loss?: number;
  /** Probability that a frame is held back and delivered after the next one, 0..1. */
  reorder?: number;
  /** Probability that a frame is delivered twice, 0..1. */
  duplicate?: number;
  /** One-way delay in milliseconds. */
  delayMs?: number;
  /** Rate limit in bits per second; frames beyond it queue up to `queueBytes`. */
  rateBitsPerSecond?: number;
  /** Capacity in bytes of the rate-limited queue, beyond which frames are dropped (tail drop); default 1 MiB. */
  queueBytes?: number;
  /** Skips transport checksums on both sides, as Linux does over veth. Default false. */
  checksumOffload?: boolean;
  /** Seed of the impairment generator, so a run can be replayed. */
  seed?: number;
}

interface QueuedFrame {
  buf: Uint8Array;
  off: number;
  len: number;
  due: number;
}

/**
 * One end of an in-memory Ethernet link between two stacks in the same
 * process. Frames cross to the peer on a later turn of the event loop, in
 * batches. The impairments of the options apply to frames this end sends.
 */
export class MemoryLinkEndpoint implements LinkEndpoint {
  readonly mtu: number;
  readonly linkAddress: Uint8Array;
  readonly capabilities: number;
  readonly gsoMaxSize = 0;
  /** Frames this end dropped because of `loss` or a full queue. */
  droppedFrames = 0;
  /** Frames this end sent (after impairments). */
  sentFrames = 0;

  private peer: MemoryLinkEndpoint | null = null;
  private dispatcher: NetworkDispatcher | null = null;
  private readonly random: Random;
  private readonly queue: QueuedFrame[] = [];
  private queueHead = 0;
  private queuedBytes = 0;
  private held: QueuedFrame | null = null;
  private scheduled = false;
  private timer: NodeJS.Timeout | null = null;
  private nextDeparture = 0;
  private closed = false;

  constructor(private readonly options: MemoryLinkOptions, mac?: Uint8Array) {
    this.mtu = options.mtu ?? 1500;
    this.linkAddress = mac ?? randomMac();
    this.capabilities = options.checksumOffload === true ? CAP_TX_CHECKSUM_OFFLOAD : 0;
    this.random = new Random(options.seed ?? 1);
  }

  /** Connects two ends; used by `createMemoryLinkPair`. */
  static connect(a: MemoryLinkEndpoint, b: MemoryLinkEndpoint): void {
    a.peer = b;
    b.peer = a;
  }

  attach(dispatcher: NetworkDispatcher | null): void {
    this.dispatcher = dispatcher;
  }

  writeFrame(buf: Uint8Array, off: number, len: number, _offload: TxOffload | null): void {
    const o = this.options;
    if (this.closed || this.peer === null || (o.loss !== undefined && this.random.next() < o.loss)) {
      this.droppedFrames++;
      defaultPool.release(buf);
      return;
    }
    if (o.duplicate !== undefined && this.random.next() < o.duplicate) {
      const copy = defaultPool.alloc(len);
      copy.set(buf.subarray(off, off + len));
      this.enqueue(copy, 0, len);
    }
    if (o.reorder !== undefined && this.held === null && this.random.next() < o.reorder) {
      this.held = { buf, off, len, due: 0 };
      this.schedule();
      return;
    }
    this.enqueue(buf, off, len);
    if (this.held !== null) {
      const h = this.held;
      this.held = null;
      this.enqueue(h.buf, h.off, h.len);
    }
  }

  private enqueue(buf: Uint8Array, off: number, len: number): void {
    const o = this.options;
    let due = 0;
    if (o.rateBitsPerSecond !== undefined || o.delayMs !== undefined) {
      const now = performance.now();
      let depart = now;
      if (o.rateBitsPerSecond !== undefined) {
        if (this.queuedBytes + len > (o.queueBytes ?? 1 << 20)) {
          this.droppedFrames++;
          defaultPool.release(buf);
          return;
        }
        depart = Math.max(now, this.nextDeparture) + ((len + 24) * 8 * 1000) / o.rateBitsPerSecond;
        this.nextDeparture = depart;
      }
      due = depart + (o.delayMs ?? 0);
    }
    this.queue.push({ buf, off, len, due });
    this.queuedBytes += len;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    const head = this.queue[this.queueHead];
    const wait = head === undefined ? 0 : head.due - performance.now();
    this.scheduled = true;
    if (wait <= 0) {
      setImmediate(() => this.drain());
    } else {
      this.timer = setTimeout(() => this.drain(), Math.max(1, Math.ceil(wait)));
      this.timer.unref();
    }
  }

  private drain(): void {
    this.scheduled = false;
    this.timer = null;
    if (this.held !== null) {
      const h = this.held;
      this.held = null;
      this.enqueue(h.buf, h.off, h.len);
      this.scheduled = false;
    }
    const peer = this.peer;
    const d = peer?.dispatcher ?? null;
    const now = performance.now();
    const rx = this.options.checksumOffload === true ? RX_CHECKSUM_VALID : 0;
    let delivered = 0;
    while (this.queueHead < this.queue.length) {
      const f = this.queue[this.queueHead];
      if (f.due > now) break;
      this.queueHead++;
      this.queuedBytes -= f.len;
      this.sentFrames++;
      if (d !== null && !this.closed) {
        d.deliverFrame(f.buf, f.off, f.len, rx);
        delivered++;
      }
      defaultPool.release(f.buf);
    }
    if (this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
    } else if (this.queueHead > 1024) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    if (delivered > 0 && d !== null) d.endBatch();
    if (this.queueHead < this.queue.length) this.schedule();
  }

  close(): void {
    this.closed = true;
    this.dispatcher = null;
    if (this.timer !== null) clearTimeout(this.timer);
    this.queue.length = 0;
    this.queueHead = 0;
  }
}

/**
 * Creates two connected in-memory endpoints. `ab` applies to frames from the
 * first to the second, `ba` (default: the same as `ab`) to the other way.
 */
export function createMemoryLinkPair(
  ab: MemoryLinkOptions = {},
  ba: MemoryLinkOptions = ab,
): [MemoryLinkEndpoint, MemoryLinkEndpoint] {
  const a = new MemoryLinkEndpoint(ab);
  const b = new MemoryLinkEndpoint({ ...ba, mtu: ab.mtu ?? ba.mtu, seed: (ba.seed ?? 1) + 7919 });
  MemoryLinkEndpoint.connect(a, b);
  return [a, b];
}
