import { Header } from "./messages";

/** A message ended before a field that its type requires. */
export class MessageTooShortError extends Error {
  constructor(needed: number, length: number) {
    super(`message of ${length} bytes is too short: a field ends at byte ${needed}`);
    this.name = "MessageTooShortError";
  }
}

/**
 * Reads the header and the little-endian body fields of one received
 * message, in order. The message is borrowed: `bytes` is reused for the
 * next message, so read everything before receiving again. Reading past
 * the end throws MessageTooShortError.
 */
export class MessageReader {
  private readonly view: DataView;
  private position: number = Header.SIZE;

  constructor(
    private readonly bytes: Uint8Array,
    /** Length of the message, header included. */
    readonly length: number,
  ) {
    if (length < Header.SIZE) {
      throw new MessageTooShortError(Header.SIZE, length);
    }
    this.view = new DataView(bytes.buffer, bytes.byteOffset, length);
  }

  /** The message type of the header. */
  get type(): number {
    return this.view.getUint16(Header.TYPE, true);
  }

  /** The errno of the header: 0, or the failure of a reply. */
  get errno(): number {
    return this.view.getUint16(Header.ERRNO, true);
  }

  /** The tag of the header. */
  get tag(): number {
    return this.view.getUint32(Header.TAG, true);
  }

  /** Bytes of the body not read yet. */
  get remaining(): number {
    return this.length - this.position;
  }

  /** Reads a u8. */
  u8(): number {
    return this.view.getUint8(this.take(1));
  }

  /** Reads a u16. */
  u16(): number {
    return this.view.getUint16(this.take(2), true);
  }

  /** Reads a u32. */
  u32(): number {
    return this.view.getUint32(this.take(4), true);
  }

  /** Reads a u64 as a bigint. */
  u64(): bigint {
    return this.view.getBigUint64(this.take(8), true);
  }

  /** Reads an i64 as a bigint. */
  i64(): bigint {
    return this.view.getBigInt64(this.take(8), true);
  }

  /** Reads `count` bytes as a copy. */
  raw(count: number): Uint8Array {
    const at = this.take(count);
    return this.bytes.slice(at, at + count);
  }

  /** Reads `count` bytes as a byte string (one character per byte). */
  byteString(count: number): string {
    const at = this.take(count);
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + at, count).toString("latin1");
  }

  /** Skips `count` bytes. */
  skip(count: number): void {
    this.take(count);
  }

  /** Consumes `count` bytes and returns their offset. */
  private take(count: number): number {
    const at = this.position;
    if (at + count > this.length) {
      throw new MessageTooShortError(at + count, this.length);
    }
    this.position = at + count;
    return at;
  }
}
