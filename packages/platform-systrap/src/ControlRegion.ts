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
 * touched after it is unmapped.
 */
export class ControlRegion {
  /** 32-bit words of the whole region, for Atomics. */
  readonly words: Int32Array;
  /** Bytes of the whole region. */
  readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(
    buffer: ArrayBuffer,
    /** Address of the region in the Sentry's process (for futex calls). */
    readonly address: number,
  ) {
    if (buffer.byteLength !== Layout.CONTROL_SIZE) {
      throw new RangeError(`control region must be ${Layout.CONTROL_SIZE} bytes, got ${buffer.byteLength}`);
    }
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
