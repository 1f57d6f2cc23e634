import * as BufferLayout from "buffer-layout";

/**
 * A C structure declared once, decoded into and encoded from plain objects.
 * Use it where an object per call is fine; hot paths use DataView accessors
 * at named offsets instead.
 */
export interface StructLayout<T extends object> {
  /** The structure's C name, used in error messages. */
  readonly name: string;
  /** The size of the structure in bytes (`sizeof`). */
  readonly size: number;
  decode(bytes: Uint8Array, offset?: number): T;
  /**
   * Encodes `value` at `offset` and returns the number of bytes written. Padding
   * and reserved fields are left as they are, so callers zero the target first
   * when it matters. Throws RangeError when `bytes` is too short.
   */
  encode(value: T, bytes: Uint8Array, offset?: number): number;
  /** Returns a new zero-filled byte array holding `value`. */
  toBytes(value: T): Uint8Array;
}

/** Declares a structure from buffer-layout fields, in C order with explicit padding. */
export function defineStruct<T extends object>(name: string, fields: BufferLayout.Layout[]): StructLayout<T> {
  return new BufferStructLayout<T>(name, fields);
}

class BufferStructLayout<T extends object> implements StructLayout<T> {
  readonly name: string;
  readonly size: number;
  private readonly layout: BufferLayout.Structure<T>;

  constructor(name: string, fields: BufferLayout.Layout[]) {
    this.name = name;
    this.layout = BufferLayout.struct<T>(fields);
    this.size = this.layout.span;
  }

  decode(bytes: Uint8Array, offset = 0): T {
    this.checkRange(bytes, offset);
    return this.layout.decode(asBuffer(bytes), offset);
  }

  encode(value: T, bytes: Uint8Array, offset = 0): number {
    this.checkRange(bytes, offset);
    this.layout.encode(value, asBuffer(bytes), offset);
    return this.size;
  }

  toBytes(value: T): Uint8Array {
    const bytes = new Uint8Array(this.size);
    this.encode(value, bytes);
    return bytes;
  }

  private checkRange(bytes: Uint8Array, offset: number): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + this.size > bytes.byteLength) {
      throw new RangeError(`struct ${this.name} needs ${this.size} bytes at offset ${offset}, buffer has ${bytes.byteLength}`);
    }
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A little-endian 64-bit integer field that decodes to a bigint, exactly (buffer-layout's own `nu64` rounds above 2^53). */
class Int64Layout extends BufferLayout.Layout<bigint> {
  private readonly signed: boolean;

  constructor(signed: boolean, property?: string) {
    super(8, property);
    this.signed = signed;
  }

  override decode(b: Buffer, offset = 0): bigint {
    return this.signed ? b.readBigInt64LE(offset) : b.readBigUInt64LE(offset);
  }

  override encode(src: bigint, b: Buffer, offset = 0): number {
    if (this.signed) {
      b.writeBigInt64LE(BigInt.asIntN(64, src), offset);
    } else {
      b.writeBigUInt64LE(BigInt.asUintN(64, src), offset);
    }
    return 8;
  }
}

/** A fixed-size `char[length]` field holding a NUL-terminated UTF-8 string. */
class FixedStringLayout extends BufferLayout.Layout<string> {
  constructor(length: number, property?: string) {
    super(length, property);
  }

  override decode(b: Buffer, offset = 0): string {
    const field = b.subarray(offset, offset + this.span);
    const end = field.indexOf(0);
    return field.toString("utf8", 0, end === -1 ? this.span : end);
  }

  /** Writes the string cut to `length - 1` bytes and fills the rest of the field with NULs. */
  override encode(src: string, b: Buffer, offset = 0): number {
    const field = b.subarray(offset, offset + this.span);
    field.fill(0);
    const encoded = Buffer.from(src, "utf8").subarray(0, this.span - 1);
    encoded.copy(field);
    return this.span;
  }
}

/** Field constructors for defineStruct declarations. */
export const field = {
  u8: (name?: string) => BufferLayout.u8(name),
  u16: (name?: string) => BufferLayout.u16(name),
  s16: (name?: string) => BufferLayout.s16(name),
  u32: (name?: string) => BufferLayout.u32(name),
  s32: (name?: string) => BufferLayout.s32(name),
  u64: (name?: string): BufferLayout.Layout<bigint> => new Int64Layout(false, name),
  s64: (name?: string): BufferLayout.Layout<bigint> => new Int64Layout(true, name),
  /** `length` bytes the layout neither decodes nor writes. */
  padding: (length: number) => BufferLayout.blob(length),
  bytes: (length: number, name: string) => BufferLayout.blob(length, name),
  string: (length: number, name: string): BufferLayout.Layout<string> => new FixedStringLayout(length, name),
  array: <T>(element: BufferLayout.Layout<T>, count: number, name: string) => BufferLayout.seq(element, count, name),
  struct: (fields: BufferLayout.Layout[], name: string) => BufferLayout.struct(fields, name),
};
