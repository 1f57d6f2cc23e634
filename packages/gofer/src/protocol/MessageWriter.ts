import { Header } from "./messages";

/**
 * Builds one message in place in a caller's buffer: the header, then body
 * fields appended little-endian. Writing past the buffer throws
 * RangeError, which callers treat as a message too long to send.
 */
export class MessageWriter {
  private readonly view: DataView;
  private position: number = Header.SIZE;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Writes the header and empties the body. */
  start(type: number, errno: number, tag: number): this {
    this.view.setUint16(Header.TYPE, type, true);
    this.view.setUint16(Header.ERRNO, errno, true);
    this.view.setUint32(Header.TAG, tag >>> 0, true);
    this.position = Header.SIZE;
    return this;
  }

  /** Length of the message so far, header included. */
  get length(): number {
    return this.position;
  }

  /** Appends a u8. */
  u8(value: number): this {
    this.view.setUint8(this.reserve(1), value);
    return this;
  }

  /** Appends a u16. */
  u16(value: number): this {
    this.view.setUint16(this.reserve(2), value, true);
    return this;
  }

  /** Appends a u32. */
  u32(value: number): this {
    this.view.setUint32(this.reserve(4), value >>> 0, true);
    return this;
  }

  /** Appends a u64 from a number (exact up to 2^53) or a bigint. */
  u64(value: number | bigint): this {
    this.view.setBigUint64(this.reserve(8), BigInt(value), true);
    return this;
  }

  /** Appends an i64 from a number (exact up to 2^53) or a bigint. */
  i64(value: number | bigint): this {
    this.view.setBigInt64(this.reserve(8), BigInt(value), true);
    return this;
  }

  /** Appends raw bytes. */
  raw(value: Uint8Array): this {
    const at = this.reserve(value.length);
    this.bytes.set(value, at);
    return this;
  }

  /**
   * Appends a byte string: one character per byte, as VFS names are.
   * Throws RangeError for a character above U+00FF.
   */
  byteString(value: string): this {
    const at = this.reserve(value.length);
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      if (code > 0xff) {
        throw new RangeError(`character U+${code.toString(16).padStart(4, "0")} in a byte string`);
      }
      this.bytes[at + i] = code;
    }
    return this;
  }

  /** Reserves `count` bytes at the end and returns their offset. */
  reserve(count: number): number {
    const at = this.position;
    if (at + count > this.bytes.length) {
      throw new RangeError(`message longer than ${this.bytes.length} bytes`);
    }
    this.position = at + count;
    return at;
  }

  /** The underlying view, for fields that a reserve()d area is filled with. */
  get dataView(): DataView {
    return this.view;
  }
}
