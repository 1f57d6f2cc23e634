import { signalName } from "../signals";
import { formatEnum, formatFlags, tableOf } from "./format";

/** Options of wait4(2) and waitid(2) (include/uapi/linux/wait.h). */
export const WaitOptions = {
  WNOHANG: 0x00000001,
  WUNTRACED: 0x00000002,
  WSTOPPED: 0x00000002,
  WEXITED: 0x00000004,
  WCONTINUED: 0x00000008,
  WNOWAIT: 0x01000000,
  __WNOTHREAD: 0x20000000,
  __WALL: 0x40000000,
  __WCLONE: 0x80000000,
} as const;

/** The `idtype` argument of waitid(2). */
export const WaitIdType = {
  P_ALL: 0,
  P_PID: 1,
  P_PGID: 2,
  P_PIDFD: 3,
} as const;

const WAIT_OPTION_TABLE = tableOf(WaitOptions, [
  "WNOHANG", "WEXITED", "WSTOPPED", "WCONTINUED", "WNOWAIT", "__WCLONE", "__WALL", "__WNOTHREAD",
]);

const WAIT_ID_TABLE = tableOf(WaitIdType, ["P_ALL", "P_PID", "P_PGID", "P_PIDFD"]);

/** Formats wait options, as in `WNOHANG|__WALL`. */
export function formatWaitOptions(options: number | bigint): string {
  return formatFlags(options, WAIT_OPTION_TABLE);
}

/** Formats the `idtype` of waitid(2), as in `P_PID`. */
export function formatWaitIdType(idtype: number | bigint): string {
  return formatEnum(idtype, WAIT_ID_TABLE, "P_");
}

/**
 * Formats a wait status as strace does, as in
 * `[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]` or `[{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}]`.
 * A ptrace event in bits 16 and up prints as `| 0x30000` after the stop.
 */
export function formatWaitStatus(status: number): string {
  const nameOf = (signal: number) => signalName(signal) ?? String(signal);
  const low = status & 0x7f;

  if ((status & 0xffff) === 0xffff) {
    return "[{WIFCONTINUED(s)}]";
  }
  if (low === 0) {
    return `[{WIFEXITED(s) && WEXITSTATUS(s) == ${(status >> 8) & 0xff}}]`;
  }
  if (low === 0x7f) {
    const stop = `WIFSTOPPED(s) && WSTOPSIG(s) == ${nameOf((status >> 8) & 0xff)}`;
    const event = (status >>> 16) << 16;
    return event === 0 ? `[{${stop}}]` : `[{${stop}} | 0x${(event >>> 0).toString(16)}]`;
  }
  const core = (status & 0x80) !== 0 ? " && WCOREDUMP(s)" : "";
  return `[{WIFSIGNALED(s) && WTERMSIG(s) == ${nameOf(low)}${core}}]`;
}
