import { closeSync, readSync, writeSync } from "node:fs";
import { defaultPool } from "../BufferPool";
import { CAP_GSO, CAP_TX_CHECKSUM_OFFLOAD, type LinkEndpoint, type NetworkDispatcher, RX_CHECKSUM_VALID, type TxOffload } from "./LinkEndpoint";
import { DevicePoller } from "./poller.native";
import { putLE16, VIRTIO_NET_HDR_F_DATA_VALID, VIRTIO_NET_HDR_F_NEEDS_CSUM, VNET_CSUM_OFFSET, VNET_CSUM_START, VNET_FLAGS, VNET_GSO_SIZE, VNET_GSO_TYPE, VNET_HDR_LEN, VNET_HDR_LEN_FIELD } from "./vnet";

/** Frames read per turn of the event loop before other work gets a turn. */
const READ_BUDGET = 64;
/** Largest frame read: a 64 KiB GSO segment plus headers. */
const MAX_FRAME = 65536 + 64;

/** Statistics of a device endpoint. */
export interface DeviceStats {
  /** Frames read. */
  rxFrames: number;
  /** Frames written. */
  txFrames: number;
  /** Frames not written because the device rejected them. */
  txErrors: number;
  /** The error that stopped reading (the device went away), or null. */
  rxError: string | null;
}

/**
 * A link endpoint over a file descriptor that carries Ethernet frames, with
 * or without a virtio_net_hdr prefix: the shared part of the TAP and
 * AF_PACKET endpoints. Readiness comes from a DevicePoller (a worker thread
 * in poll(2)); frames are read and written on the main thread with
 * non-blocking read(2) and write(2).
 */
export class DeviceEndpoint implements LinkEndpoint {
  readonly linkAddress: Uint8Array;
  readonly capabilities: number;
  readonly gsoMaxSize: number;
  /** Counters of this endpoint. */
  readonly stats: DeviceStats = { rxFrames: 0, txFrames: 0, txErrors: 0, rxError: null };
  private dispatcher: NetworkDispatcher | null = null;
  private readonly poller: DevicePoller;
  private readonly rxBuf = new Uint8Array(MAX_FRAME + 16);
  private closed = false;

  constructor(
    protected readonly fd: number,
    readonly mtu: number,
    mac: Uint8Array,
    private readonly vnet: boolean,
    offload: boolean,
    private readonly ownsFd: boolean,
  ) {
    this.linkAddress = mac;
    this.capabilities = vnet && offload ? CAP_TX_CHECKSUM_OFFLOAD | CAP_GSO : 0;
    this.gsoMaxSize = vnet && offload ? 65535 : 0;
    this.poller = new DevicePoller(fd, () => this.drain());
  }

  attach(dispatcher: NetworkDispatcher | null): void {
    this.dispatcher = dispatcher;
  }

  private drain(): void {
    if (this.closed) return;
    const buf = this.rxBuf;
    const hdr = this.vnet ? VNET_HDR_LEN : 0;
    let n = 0;
    let more = true;
    for (; n < READ_BUDGET; n++) {
      let len: number;
      try {
        len = readSync(this.fd, buf, 0, buf.length, null);
      } catch (e) {
        more = false;
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== "EAGAIN" && code !== "EWOULDBLOCK") {
          // The device is gone (for example its namespace was deleted): stop
          // polling, or poll(2) would report the error again at once.
          this.stats.rxError = `read failed: ${code ?? String(e)}`;
          this.poller.stop();
          if (n > 0) this.dispatcher?.endBatch();
          return;
        }
        break;
      }
      if (len <= hdr) continue;
      this.stats.rxFrames++;
      let flags = 0;
      if (hdr > 0 && (buf[VNET_FLAGS] & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)) !== 0) flags |= RX_CHECKSUM_VALID;
      this.dispatcher?.deliverFrame(buf, hdr, len - hdr, flags);
    }
    if (n > 0) this.dispatcher?.endBatch();
    if (this.closed) return;
    if (more) setImmediate(() => this.drain());
    else this.poller.rearm();
  }

  writeFrame(buf: Uint8Array, off: number, len: number, offload: TxOffload | null): void {
    if (this.closed) {
      defaultPool.release(buf);
      return;
    }
    let start = off;
    let total = len;
    if (this.vnet) {
      start = off - VNET_HDR_LEN;
      total = len + VNET_HDR_LEN;
      buf.fill(0, start, off);
      if (offload !== null) {
        buf[start + VNET_FLAGS] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        buf[start + VNET_GSO_TYPE] = offload.gsoType;
        putLE16(buf, start + VNET_HDR_LEN_FIELD, offload.hdrLen);
        putLE16(buf, start + VNET_GSO_SIZE, offload.gsoType !== 0 ? offload.gsoSize : 0);
        putLE16(buf, start + VNET_CSUM_START, offload.csumStart);
        putLE16(buf, start + VNET_CSUM_OFFSET, offload.csumOffset);
      }
    }
    try {
      writeSync(this.fd, buf, start, total);
      this.stats.txFrames++;
    } catch {
      this.stats.txErrors++;
    }
    defaultPool.release(buf);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.dispatcher = null;
    this.poller.stop();
    if (this.ownsFd) {
      try {
        closeSync(this.fd);
      } catch {
        // Already closed by its owner.
      }
    }
  }
}
