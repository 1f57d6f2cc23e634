/** Offsets in struct linux_dirent64, the record that getdents64(2) fills. */
const enum Dirent64 {
  INO = 0,
  OFF = 8,
  RECLEN = 16,
  TYPE = 18,
  NAME = 19,
}

/** One directory entry as getdents64 returned it. */
export interface HostDirent {
  /** d_ino: the host inode number. */
  ino: bigint;
  /** d_off: the directory position after this entry, for lseek. */
  next: bigint;
  /** d_type: DT_* */
  type: number;
  /** The name bytes, borrowed from the getdents64 buffer. */
  name: Uint8Array;
}

/**
 * Calls `visit` for each struct linux_dirent64 in the first `length` bytes
 * of `buffer`, in the host's order. Throws RangeError for a malformed
 * record, which a kernel never returns.
 */
export function forEachDirent(buffer: Uint8Array, length: number, visit: (entry: HostDirent) => void): void {
  const view = new DataView(buffer.buffer, buffer.byteOffset, length);
  let offset = 0;
  while (offset < length) {
    const recordLength = view.getUint16(offset + Dirent64.RECLEN, true);
    if (recordLength <= Dirent64.NAME || offset + recordLength > length) {
      throw new RangeError(`malformed linux_dirent64 at byte ${offset}: record length ${recordLength}`);
    }
    const nameStart = offset + Dirent64.NAME;
    const recordEnd = offset + recordLength;
    let nameEnd = buffer.indexOf(0, nameStart);
    if (nameEnd < 0 || nameEnd > recordEnd) {
      nameEnd = recordEnd;
    }
    visit({
      ino: view.getBigUint64(offset + Dirent64.INO, true),
      next: view.getBigInt64(offset + Dirent64.OFF, true),
      type: view.getUint8(offset + Dirent64.TYPE),
      name: buffer.subarray(nameStart, nameEnd),
    });
    offset = recordEnd;
  }
}

/** Reports whether a name is "." or "..". */
export function isDotOrDotDot(name: Uint8Array): boolean {
  return (name.length === 1 && name[0] === 0x2e) || (name.length === 2 && name[0] === 0x2e && name[1] === 0x2e);
}
