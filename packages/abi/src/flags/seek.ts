import { formatEnum, tableOf } from "./format";

/** The `whence` argument of lseek(2) (include/uapi/linux/fs.h). */
export const SeekWhence = {
  SEEK_SET: 0,
  SEEK_CUR: 1,
  SEEK_END: 2,
  SEEK_DATA: 3,
  SEEK_HOLE: 4,
} as const;

const SEEK_TABLE = tableOf(SeekWhence, ["SEEK_SET", "SEEK_CUR", "SEEK_END", "SEEK_DATA", "SEEK_HOLE"]);

/** Formats a `whence`, as in `SEEK_END`. */
export function formatSeekWhence(whence: number | bigint): string {
  return formatEnum(whence, SEEK_TABLE, "SEEK_");
}
