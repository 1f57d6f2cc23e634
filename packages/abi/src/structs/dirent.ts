import { toView } from "./view";

/** Byte offsets of the fields of `struct linux_dirent64` (getdents64(2)). */
export const Dirent64Offset = {
  d_ino: 0,
  d_off: 8,
  d_reclen: 16,
  d_type: 18,
  d_name: 19,
} as const;

/** The alignment of each `linux_dirent64` record. */
export const DIRENT64_ALIGN = 8;

/** Returns the record length of a `linux_dirent64` whose name is `nameLength` bytes: header, name, NUL, padded to 8. */
export function dirent64RecordLength(nameLength: number): number {
  return (Dirent64Offset.d_name + nameLength + 1 + DIRENT64_ALIGN - 1) & ~(DIRENT64_ALIGN - 1);
}

const textEncoder = new TextEncoder();

/**
 * Writes one `linux_dirent64` record at `offset` of `target` and returns its
 * length (a multiple of 8), or 0 when it does not fit in the bytes left, in
 * which case nothing is written. `name` is a string (encoded as UTF-8) or raw
 * bytes; it must not contain NUL. The padding after the NUL is zeroed.
 */
export function encodeDirent64(
  target: Uint8Array,
  offset: number,
  ino: bigint,
  nextOffset: bigint,
  type: number,
  name: string | Uint8Array,
): number {
  const nameBytes = typeof name === "string" ? textEncoder.encode(name) : name;
  if (nameBytes.includes(0)) {
    throw new RangeError("dirent64 name must not contain NUL");
  }
  const recordLength = dirent64RecordLength(nameBytes.byteLength);
  if (!Number.isInteger(offset) || offset < 0 || offset + recordLength > target.byteLength) {
    return 0;
  }

  const view = toView(target, offset, recordLength, "linux_dirent64");
  view.setBigUint64(offset + Dirent64Offset.d_ino, BigInt.asUintN(64, ino), true);
  view.setBigInt64(offset + Dirent64Offset.d_off, BigInt.asIntN(64, nextOffset), true);
  view.setUint16(offset + Dirent64Offset.d_reclen, recordLength, true);
  view.setUint8(offset + Dirent64Offset.d_type, type);
  target.set(nameBytes, offset + Dirent64Offset.d_name);
  target.fill(0, offset + Dirent64Offset.d_name + nameBytes.byteLength, offset + recordLength);
  return recordLength;
}

/** One decoded `linux_dirent64` record. */
export interface Dirent64 {
  ino: bigint;
  off: bigint;
  reclen: number;
  type: number;
  name: Uint8Array;
}

/**
 * Decodes the `linux_dirent64` records in the first `length` bytes of `bytes`,
 * as getdents64(2) returned them. Throws RangeError on a malformed record.
 */
export function decodeDirents64(bytes: Uint8Array, length = bytes.byteLength): Dirent64[] {
  const view = toView(bytes, 0, length, "linux_dirent64 array");
  const entries: Dirent64[] = [];
  for (let offset = 0; offset < length;) {
    const reclen = offset + Dirent64Offset.d_name <= length ? view.getUint16(offset + Dirent64Offset.d_reclen, true) : 0;
    if (reclen <= Dirent64Offset.d_name || offset + reclen > length) {
      throw new RangeError(`malformed linux_dirent64 record at offset ${offset}`);
    }
    const nameStart = offset + Dirent64Offset.d_name;
    let nameEnd = bytes.indexOf(0, nameStart);
    if (nameEnd === -1 || nameEnd > offset + reclen) {
      nameEnd = offset + reclen;
    }
    entries.push({
      ino: view.getBigUint64(offset + Dirent64Offset.d_ino, true),
      off: view.getBigInt64(offset + Dirent64Offset.d_off, true),
      reclen,
      type: view.getUint8(offset + Dirent64Offset.d_type),
      name: bytes.subarray(nameStart, nameEnd),
    });
    offset += reclen;
  }
  return entries;
}
