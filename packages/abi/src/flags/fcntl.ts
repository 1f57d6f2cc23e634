import { formatEnum, formatFlags, tableOf } from "./format";

/** fcntl(2) commands of x86-64 (asm-generic/fcntl.h and linux/fcntl.h). */
export const FcntlCmd = {
  F_DUPFD: 0,
  F_GETFD: 1,
  F_SETFD: 2,
  F_GETFL: 3,
  F_SETFL: 4,
  F_GETLK: 5,
  F_SETLK: 6,
  F_SETLKW: 7,
  F_SETOWN: 8,
  F_GETOWN: 9,
  F_SETSIG: 10,
  F_GETSIG: 11,
  F_SETOWN_EX: 15,
  F_GETOWN_EX: 16,
  F_GETOWNER_UIDS: 17,
  F_OFD_GETLK: 36,
  F_OFD_SETLK: 37,
  F_OFD_SETLKW: 38,
  F_SETLEASE: 1024,
  F_GETLEASE: 1025,
  F_NOTIFY: 1026,
  F_DUPFD_QUERY: 1027,
  F_CREATED_QUERY: 1028,
  F_DUPFD_CLOEXEC: 1030,
  F_SETPIPE_SZ: 1031,
  F_GETPIPE_SZ: 1032,
  F_ADD_SEALS: 1033,
  F_GET_SEALS: 1034,
  F_GET_RW_HINT: 1035,
  F_SET_RW_HINT: 1036,
  F_GET_FILE_RW_HINT: 1037,
  F_SET_FILE_RW_HINT: 1038,
} as const;

/** The file descriptor flag F_GETFD and F_SETFD read and write. */
export const FD_CLOEXEC = 1;

/** Lock types of `struct flock` (`l_type`). */
export const FlockType = {
  F_RDLCK: 0,
  F_WRLCK: 1,
  F_UNLCK: 2,
} as const;

/** memfd seals for F_ADD_SEALS and F_GET_SEALS. */
export const SealFlags = {
  F_SEAL_SEAL: 0x01,
  F_SEAL_SHRINK: 0x02,
  F_SEAL_GROW: 0x04,
  F_SEAL_WRITE: 0x08,
  F_SEAL_FUTURE_WRITE: 0x10,
  F_SEAL_EXEC: 0x20,
} as const;

const FCNTL_CMD_TABLE = tableOf(FcntlCmd, Object.keys(FcntlCmd) as (keyof typeof FcntlCmd)[]);

const FD_FLAG_TABLE = [["FD_CLOEXEC", FD_CLOEXEC]] as const;

const SEAL_TABLE = tableOf(SealFlags, Object.keys(SealFlags) as (keyof typeof SealFlags)[]);

/** Formats a fcntl(2) command, as in `F_SETFD`, or `0x4d2 /* F_??? *\/` when unknown. */
export function formatFcntlCmd(cmd: number | bigint): string {
  return formatEnum(BigInt.asIntN(32, BigInt(cmd)), FCNTL_CMD_TABLE, "F_");
}

/** Formats file descriptor flags, as in `FD_CLOEXEC`. */
export function formatFdFlags(flags: number | bigint): string {
  return formatFlags(flags, FD_FLAG_TABLE);
}

/** Formats memfd seals, as in `F_SEAL_SEAL|F_SEAL_WRITE`. */
export function formatSealFlags(flags: number | bigint): string {
  return formatFlags(flags, SEAL_TABLE);
}
