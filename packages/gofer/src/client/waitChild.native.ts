// waitid(2) on one child process, bound through koffi. Node reaps only the
// children it spawned itself, so a gofer that a launcher started as a child
// of runsc is reaped here, by its pid.
import koffi from "koffi";
import { CldCode, SIGINFO_SIZE, SiginfoView } from "@sandbox/abi";

const libc = koffi.load("libc.so.6");

const waitidNative = libc.func("int waitid(int idtype, int id, _Out_ uint8_t *info, int options)");

const P_PID = 1;
const WNOHANG = 1;
const WEXITED = 4;

/** The end of a child process: its exit status or its signal, never both. */
export interface ChildExit {
  /** The exit status, or null when a signal ended it. */
  code: number | null;
  /** The number of the signal that ended it, or null. */
  signal: number | null;
}

const info = new SiginfoView(new Uint8Array(SIGINFO_SIZE));

/**
 * Reaps the child `pid` if it has ended, without waiting. It waits for that
 * pid only (P_PID), never for any child, which would take the children that
 * Node and the platforms wait for. Returns how the child ended, undefined
 * while it runs, or a negative errno (-ECHILD when `pid` is no child of this
 * process or was reaped already).
 */
export function reapChild(pid: number): ChildExit | undefined | number {
  info.clear();
  if (waitidNative(P_PID, pid, info.bytes, WEXITED | WNOHANG) === -1) {
    return -koffi.errno();
  }
  // With WNOHANG, a child that still runs leaves si_pid 0.
  if (info.pid === 0) return undefined;
  return info.code === CldCode.CLD_EXITED ? { code: info.status, signal: null } : { code: null, signal: info.status };
}
