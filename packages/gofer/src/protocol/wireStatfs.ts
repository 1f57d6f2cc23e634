import type { MessageReader } from "./MessageReader";
import type { MessageWriter } from "./MessageWriter";

/** The fields of Linux `struct statfs` that STATFS returns (f_fsid is left out). */
export interface Statfs {
  /** f_type: the file system's magic number. */
  type: number;
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  namelen: number;
  frsize: number;
  /** f_flags: ST_* mount flags. */
  flags: number;
}

/** The order of the fields on the wire, each a u64. */
const FIELDS = ["type", "bsize", "blocks", "bfree", "bavail", "files", "ffree", "namelen", "frsize", "flags"] as const;

/**
 * Offsets of those fields in the host's struct statfs (x86-64), in the
 * order of FIELDS. f_fsid at 56 is skipped.
 */
const HOST_OFFSETS = [0, 8, 16, 24, 32, 40, 48, 64, 72, 80] as const;

/** Size of the statfs fields on the wire. */
export const WIRE_STATFS_SIZE = FIELDS.length * 8;

/** Appends the fields of a host struct statfs, as fstatfs(2) filled it in `host`. */
export function writeStatfs(writer: MessageWriter, host: Uint8Array): void {
  const source = new DataView(host.buffer, host.byteOffset, host.byteLength);
  for (const offset of HOST_OFFSETS) {
    writer.u64(source.getBigUint64(offset, true));
  }
}

/** Reads the statfs fields from the wire. */
export function readStatfs(reader: MessageReader): Statfs {
  const result = {} as Statfs;
  for (const field of FIELDS) {
    result[field] = Number(reader.u64());
  }
  return result;
}
