// The layout of `struct linux_dirent64`, the record that getdents64 writes.
// Its fields are u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type and the name.
// The name ends with a NUL, and each record is padded to a multiple of 8 bytes.

/** Offset of d_ino in linux_dirent64. */
export const DIRENT64_INO = 0;
/** Offset of d_off (the cursor of the next entry) in linux_dirent64. */
export const DIRENT64_OFF = 8;
/** Offset of d_reclen (the record length) in linux_dirent64. */
export const DIRENT64_RECLEN = 16;
/** Offset of d_type (a DT_* value) in linux_dirent64. */
export const DIRENT64_TYPE = 18;
/** Offset of d_name in linux_dirent64. */
export const DIRENT64_NAME = 19;

/** Returns the length of the linux_dirent64 record for a name of `nameLength` bytes. */
export function dirent64Length(nameLength: number): number {
  return (DIRENT64_NAME + nameLength + 1 + 7) & ~7;
}

/**
 * Writes one linux_dirent64 record at `offset` of `view` and returns its
 * length, or 0 if it does not fit in the view. `name` is a byte string (one
 * character per byte).
 */
export function writeDirent64(
  view: DataView,
  offset: number,
  ino: number,
  nextCursor: number,
  type: number,
  name: string,
): number {
  const length = dirent64Length(name.length);
  if (offset + length > view.byteLength) {
    return 0;
  }

  view.setBigUint64(offset + DIRENT64_INO, BigInt(ino), true);
  view.setBigInt64(offset + DIRENT64_OFF, BigInt(nextCursor), true);
  view.setUint16(offset + DIRENT64_RECLEN, length, true);
  view.setUint8(offset + DIRENT64_TYPE, type);
  const nameStart = offset + DIRENT64_NAME;
  for (let i = 0; i < name.length; i++) {
    view.setUint8(nameStart + i, name.charCodeAt(i));
  }
  for (let i = nameStart + name.length; i < offset + length; i++) {
    view.setUint8(i, 0);
  }
  return length;
}
