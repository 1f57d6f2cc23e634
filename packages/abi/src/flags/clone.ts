import { signalName } from "../signals";
import { formatFlags, tableOf, toUint64 } from "./format";

/** clone(2), clone3(2) and unshare(2) flags (include/uapi/linux/sched.h). */
export const CloneFlags = {
  /** Mask of the signal sent to the parent when the child exits; clone(2) only. */
  CSIGNAL: 0x000000ff,
  /** Shares the time namespace; unshare(2) and clone3(2) only, because its bit lies in CSIGNAL. */
  CLONE_NEWTIME: 0x00000080,
  CLONE_VM: 0x00000100,
  CLONE_FS: 0x00000200,
  CLONE_FILES: 0x00000400,
  CLONE_SIGHAND: 0x00000800,
  CLONE_PIDFD: 0x00001000,
  CLONE_PTRACE: 0x00002000,
  CLONE_VFORK: 0x00004000,
  CLONE_PARENT: 0x00008000,
  CLONE_THREAD: 0x00010000,
  CLONE_NEWNS: 0x00020000,
  CLONE_SYSVSEM: 0x00040000,
  CLONE_SETTLS: 0x00080000,
  CLONE_PARENT_SETTID: 0x00100000,
  CLONE_CHILD_CLEARTID: 0x00200000,
  /** Ignored by Linux since 2.6.2. */
  CLONE_DETACHED: 0x00400000,
  CLONE_UNTRACED: 0x00800000,
  CLONE_CHILD_SETTID: 0x01000000,
  CLONE_NEWCGROUP: 0x02000000,
  CLONE_NEWUTS: 0x04000000,
  CLONE_NEWIPC: 0x08000000,
  CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000,
  CLONE_IO: 0x80000000,
  /** clone3(2) only. */
  CLONE_CLEAR_SIGHAND: 0x100000000,
  /** clone3(2) only. */
  CLONE_INTO_CGROUP: 0x200000000,
} as const;

const CLONE_FLAG_TABLE = tableOf(CloneFlags, [
  "CLONE_VM", "CLONE_FS", "CLONE_FILES", "CLONE_SIGHAND", "CLONE_PIDFD", "CLONE_PTRACE", "CLONE_VFORK",
  "CLONE_PARENT", "CLONE_THREAD", "CLONE_NEWNS", "CLONE_SYSVSEM", "CLONE_SETTLS", "CLONE_PARENT_SETTID",
  "CLONE_CHILD_CLEARTID", "CLONE_UNTRACED", "CLONE_CHILD_SETTID", "CLONE_NEWCGROUP", "CLONE_NEWUTS",
  "CLONE_NEWIPC", "CLONE_NEWUSER", "CLONE_NEWPID", "CLONE_NEWNET", "CLONE_IO", "CLONE_CLEAR_SIGHAND",
  "CLONE_INTO_CGROUP",
]);

const UNSHARE_FLAG_TABLE: typeof CLONE_FLAG_TABLE = [["CLONE_NEWTIME", CloneFlags.CLONE_NEWTIME], ...CLONE_FLAG_TABLE];

/**
 * Formats the flags argument of clone(2) as strace does: the flags, then the
 * exit signal in the low byte, as in `CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD`.
 */
export function formatCloneFlags(flags: number | bigint): string {
  const value = toUint64(flags);
  const exitSignal = Number(value & BigInt(CloneFlags.CSIGNAL));
  const rest = value & ~BigInt(CloneFlags.CSIGNAL);

  const parts: string[] = [];
  if (rest !== 0n) {
    parts.push(formatFlags(rest, CLONE_FLAG_TABLE));
  }
  if (exitSignal !== 0) {
    parts.push(signalName(exitSignal) ?? String(exitSignal));
  }
  return parts.length === 0 ? "0" : parts.join("|");
}

/** Formats unshare(2) and clone3(2) flags, which have no exit signal byte. */
export function formatUnshareFlags(flags: number | bigint): string {
  return formatFlags(flags, UNSHARE_FLAG_TABLE);
}
