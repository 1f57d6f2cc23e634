import { formatEnum, formatFlags, tableOf, toUint64 } from "./format";

/** futex(2) operations (include/uapi/linux/futex.h). */
export const FutexOp = {
  FUTEX_WAIT: 0,
  FUTEX_WAKE: 1,
  FUTEX_FD: 2,
  FUTEX_REQUEUE: 3,
  FUTEX_CMP_REQUEUE: 4,
  FUTEX_WAKE_OP: 5,
  FUTEX_LOCK_PI: 6,
  FUTEX_UNLOCK_PI: 7,
  FUTEX_TRYLOCK_PI: 8,
  FUTEX_WAIT_BITSET: 9,
  FUTEX_WAKE_BITSET: 10,
  FUTEX_WAIT_REQUEUE_PI: 11,
  FUTEX_CMP_REQUEUE_PI: 12,
  FUTEX_LOCK_PI2: 13,
} as const;

/** Flags and masks of the futex(2) operation word and of the futex word itself. */
export const FutexFlags = {
  FUTEX_PRIVATE_FLAG: 128,
  FUTEX_CLOCK_REALTIME: 256,
  /** Mask of the operation: every bit but FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME, `~384`. */
  FUTEX_CMD_MASK: -385,
  FUTEX_BITSET_MATCH_ANY: 0xffffffff,
  FUTEX_WAITERS: 0x80000000,
  FUTEX_OWNER_DIED: 0x40000000,
  FUTEX_TID_MASK: 0x3fffffff,
} as const;

/** Flags of futex_wait(2), futex_wake(2), futex_requeue(2) and futex_waitv(2) (FUTEX2_*). */
export const Futex2Flags = {
  FUTEX2_SIZE_U8: 0x00,
  FUTEX2_SIZE_U16: 0x01,
  FUTEX2_SIZE_U32: 0x02,
  FUTEX2_SIZE_U64: 0x03,
  FUTEX2_NUMA: 0x04,
  FUTEX2_MPOL: 0x08,
  FUTEX2_PRIVATE: 128,
} as const;

const FUTEX_OP_TABLE = tableOf(FutexOp, Object.keys(FutexOp) as (keyof typeof FutexOp)[]);

const FUTEX_FLAG_TABLE = [["FUTEX_CLOCK_REALTIME", FutexFlags.FUTEX_CLOCK_REALTIME]] as const;

/**
 * Formats a futex(2) operation as strace does: the command with `_PRIVATE`
 * appended when FUTEX_PRIVATE_FLAG is set, then the other flags, as in
 * `FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME`.
 */
export function formatFutexOp(op: number | bigint): string {
  const value = toUint64(op) & 0xffff_ffffn;
  const command = value & BigInt.asUintN(32, BigInt(FutexFlags.FUTEX_CMD_MASK));
  const isPrivate = (value & BigInt(FutexFlags.FUTEX_PRIVATE_FLAG)) !== 0n;
  const rest = value & BigInt(FutexFlags.FUTEX_CLOCK_REALTIME);

  let text = formatEnum(command, FUTEX_OP_TABLE, "FUTEX_");
  if (isPrivate) {
    text = text.startsWith("FUTEX_") ? `${text}_PRIVATE` : `${text}|FUTEX_PRIVATE_FLAG`;
  }
  return rest === 0n ? text : `${text}|${formatFlags(rest, FUTEX_FLAG_TABLE)}`;
}
