import { defaultPool } from "../BufferPool";
import { CAP_LOOPBACK, CAP_TX_CHECKSUM_OFFLOAD, type LinkEndpoint, type NetworkDispatcher, RX_CHECKSUM_VALID, type TxOffload } from "./LinkEndpoint";

/**
 * The loopback device: frames written are delivered back to the same stack on
 * a later turn of the event loop, in batches. Transport checksums are skipped
 * as on Linux's lo, since the frames never leave the process.
 */
export class LoopbackEndpoint implements LinkEndpoint {
  readonly mtu: number;
  readonly linkAddress = new Uint8Array(6);
  readonly capabilities = CAP_LOOPBACK | CAP_TX_CHECKSUM_OFFLOAD;
  readonly gsoMaxSize = 0;
  private dispatcher: NetworkDispatcher | null = null;
  private queue: { buf: Uint8Array; off: number; len: number }[] = [];
  private scheduled = false;

  /** Creates a loopback device; Linux's lo has an MTU of 65536. */
  constructor(mtu = 65536) {
    this.mtu = mtu;
  }

  attach(dispatcher: NetworkDispatcher | null): void {
    this.dispatcher = dispatcher;
  }

  writeFrame(buf: Uint8Array, off: number, len: number, _offload: TxOffload | null): void {
    this.queue.push({ buf, off, len });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  private drain(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    const d = this.dispatcher;
    for (const f of batch) {
      if (d !== null) d.deliverFrame(f.buf, f.off, f.len, RX_CHECKSUM_VALID);
      defaultPool.release(f.buf);
    }
    if (d !== null) d.endBatch();
  }

  close(): void {
    this.dispatcher = null;
    this.queue = [];
  }
}
