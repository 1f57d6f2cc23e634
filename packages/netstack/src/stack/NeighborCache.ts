import { defaultPool } from "../BufferPool";
import { Timer } from "../Timer";
import type { Counters } from "../Counters";

/** A frame waiting for its next hop's MAC address; the Ethernet header is written once it is known. */
interface PendingFrame {
  buf: Uint8Array;
  off: number;
  len: number;
  offload: import("../link/LinkEndpoint").TxOffload | null;
}

interface NeighborEntry {
  address: Uint8Array;
  mac: Uint8Array | null;
  /** When the entry stops being reachable and must be confirmed again. */
  confirmedUntil: number;
  lastProbe: number;
  probes: number;
  pending: PendingFrame[];
  pendingBytes: number;
}

/** Tunables of a neighbour cache, with Linux's defaults. */
export interface NeighborCacheOptions {
  /** How long a resolved entry is used without confirmation (base_reachable_time, 30 s). */
  reachableMs?: number;
  /** Time between probes of an unresolved entry (retrans_time, 1 s). */
  retransMs?: number;
  /** Probes sent before resolution fails (mcast_solicit, 3). */
  maxProbes?: number;
  /** Entries kept at most (gc_thresh3, 1024). */
  maxEntries?: number;
  /** Bytes of frames queued per unresolved entry (unres_qlen_bytes, 212992). */
  maxPendingBytes?: number;
}

/**
 * The neighbour table of one NIC and one address family: ARP for IPv4, NDP
 * for IPv6. Frames to an unresolved neighbour wait in a bounded queue while
 * probes are retried; when resolution fails they are dropped and counted.
 */
export class NeighborCache {
  private readonly entries = new Map<string, NeighborEntry>();
  private readonly timer: Timer;
  private readonly reachableMs: number;
  private readonly retransMs: number;
  private readonly maxProbes: number;
  private readonly maxEntries: number;
  private readonly maxPendingBytes: number;

  constructor(
    private readonly sendProbe: (target: Uint8Array, knownMac: Uint8Array | null) => void,
    private readonly transmit: (mac: Uint8Array, buf: Uint8Array, off: number, len: number, offload: PendingFrame["offload"]) => void,
    private readonly counters: Counters,
    options: NeighborCacheOptions = {},
    private readonly onFailure: (address: Uint8Array) => void = () => undefined,
  ) {
    this.reachableMs = options.reachableMs ?? 30_000;
    this.retransMs = options.retransMs ?? 1000;
    this.maxProbes = options.maxProbes ?? 3;
    this.maxEntries = options.maxEntries ?? 1024;
    this.maxPendingBytes = options.maxPendingBytes ?? 212_992;
    this.timer = new Timer(() => this.tick());
  }

  /** Number of entries. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Sends a frame to `address`: at once if its MAC is known, else after
   * resolution. Takes ownership of `buf`.
   */
  send(key: string, address: Uint8Array, buf: Uint8Array, off: number, len: number, offload: PendingFrame["offload"]): void {
    const now = performance.now();
    let e = this.entries.get(key);
    if (e !== undefined && e.mac !== null) {
      if (now > e.confirmedUntil && now - e.lastProbe > this.retransMs) {
        e.lastProbe = now;
        this.sendProbe(address, e.mac);
      }
      this.transmit(e.mac, buf, off, len, offload);
      return;
    }
    if (e === undefined) {
      if (this.entries.size >= this.maxEntries) this.evict();
      e = { address: address.slice(), mac: null, confirmedUntil: 0, lastProbe: now, probes: 1, pending: [], pendingBytes: 0 };
      this.entries.set(key, e);
      this.sendProbe(address, null);
      if (!this.timer.pending) this.timer.set(this.retransMs);
    }
    while (e.pendingBytes + len > this.maxPendingBytes && e.pending.length > 0) {
      const old = e.pending.shift() as PendingFrame;
      e.pendingBytes -= old.len;
      defaultPool.release(old.buf);
      this.counters.neigh.UnresolvedDiscards++;
    }
    e.pending.push({ buf, off, len, offload });
    e.pendingBytes += len;
  }

  /**
   * Records that `address` is at `mac`, from a reply or a request. With
   * `create` false (an unsolicited message from a host we never asked about),
   * only an existing entry is updated.
   */
  update(key: string, address: Uint8Array, mac: Uint8Array, create: boolean): void {
    let e = this.entries.get(key);
    if (e === undefined) {
      if (!create) return;
      if (this.entries.size >= this.maxEntries) this.evict();
      e = { address: address.slice(), mac: null, confirmedUntil: 0, lastProbe: 0, probes: 0, pending: [], pendingBytes: 0 };
      this.entries.set(key, e);
    }
    e.mac = mac.slice();
    e.confirmedUntil = performance.now() + this.reachableMs;
    e.probes = 0;
    const pending = e.pending;
    e.pending = [];
    e.pendingBytes = 0;
    for (const f of pending) this.transmit(e.mac, f.buf, f.off, f.len, f.offload);
  }

  /** Returns the MAC address known for `key`, or null. */
  lookup(key: string): Uint8Array | null {
    return this.entries.get(key)?.mac ?? null;
  }

  /** Lists the entries as [address key, MAC or null]. */
  list(): [string, Uint8Array | null][] {
    return [...this.entries].map(([k, e]) => [k, e.mac]);
  }

  private tick(): void {
    const now = performance.now();
    let unresolved = false;
    for (const [key, e] of this.entries) {
      if (e.mac !== null) continue;
      if (now - e.lastProbe < this.retransMs - 1) {
        unresolved = true;
        continue;
      }
      if (e.probes >= this.maxProbes) {
        this.counters.neigh.ResolutionFailures++;
        for (const f of e.pending) {
          defaultPool.release(f.buf);
          this.counters.neigh.UnresolvedDiscards++;
        }
        this.entries.delete(key);
        this.onFailure(e.address);
        continue;
      }
      e.probes++;
      e.lastProbe = now;
      this.sendProbe(e.address, null);
      unresolved = true;
    }
    if (unresolved) this.timer.set(this.retransMs);
  }

  private evict(): void {
    const now = performance.now();
    for (const [key, e] of this.entries) {
      if (e.mac !== null && now > e.confirmedUntil) {
        this.entries.delete(key);
        return;
      }
    }
    const first = this.entries.keys().next();
    if (!first.done) {
      const e = this.entries.get(first.value) as NeighborEntry;
      for (const f of e.pending) defaultPool.release(f.buf);
      this.entries.delete(first.value);
    }
  }

  /** Drops every entry and queued frame. */
  clear(): void {
    for (const e of this.entries.values()) for (const f of e.pending) defaultPool.release(f.buf);
    this.entries.clear();
    this.timer.cancel();
  }
}
