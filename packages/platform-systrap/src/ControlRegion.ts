import type { SharedMapping } from "./host.native";
import { Layout } from "./stub/image.generated";

/**
 * The Sentry's view of one stub process's control region: the header the
 * executor serves requests from, then one slot per stub thread (see
 * stub/layout.h for every offset).
 *
 * The application can write all of it. Nothing read here is trusted: every
 * number is range-checked where it is used, and a wrong value can only make
 * the Sentry return a wrong result to that same application.
 *
 * The memory is a shared mapping owned by StubProcess; the views must not be
 * touched after it is unmapped. They cover the header and the slots in use
 * (see `cover`), not the whole 32 MiB: V8 counts a view's length as
 * external memory, and a new address space then cost a full garbage
 * collection.
 */
export class ControlRegion {
  /** 32-bit words of the covered part, for Atomics. */
  words!: Int32Array;
  /** Bytes of the covered part. */
  bytes!: Uint8Array;
  private view!: DataView;

  constructor(
    private readonly mapping: SharedMapping,
    /** Address of the region in the Sentry's process (for futex calls). */
    readonly address: number,
  ) {
    this.setViews(ControlRegion.slotOffset(1));
  }

  /** Makes the views reach at least `end` bytes into the region (a slot's end offset). */
  cover(end: number): void {
    if (end <= this.bytes.length) return;
    if (end > Layout.CONTROL_SIZE) throw new RangeError(`offset ${end} is past the control region (${Layout.CONTROL_SIZE} bytes)`);
    // Doubling keeps the number of new views logarithmic in the slots used.
    this.setViews(Math.min(Layout.CONTROL_SIZE, Math.max(end, 2 * this.bytes.length - Layout.HEADER_SIZE)));
  }

  private setViews(length: number): void {
    const buffer = this.mapping.view(length);
    this.words = new Int32Array(buffer);
    this.bytes = new Uint8Array(buffer);
    this.view = new DataView(buffer);
  }

  /** Atomically reads the 32-bit word at byte `offset`. */
  load(offset: number): number {
    return Atomics.load(this.words, offset >> 2);
  }

  /** Atomically writes the 32-bit word at byte `offset` with a full barrier; returns the old value. */
  exchange(offset: number, value: number): number {
    return Atomics.exchange(this.words, offset >> 2, value);
  }

  /** Writes the 32-bit word at byte `offset`. */
  store(offset: number, value: number): void {
    Atomics.store(this.words, offset >> 2, value);
  }

  /** Reads the 64-bit field at byte `offset` as a signed bigint. */
  get64(offset: number): bigint {
    return this.view.getBigInt64(offset, true);
  }

  /** Writes the 64-bit field at byte `offset`. */
  set64(offset: number, value: bigint): void {
    this.view.setBigUint64(offset, BigInt.asUintN(64, value), true);
  }

  /** Byte offset of slot `index` in the region. */
  static slotOffset(index: number): number {
    return Layout.HEADER_SIZE + index * Layout.SLOT_SIZE;
  }
}
