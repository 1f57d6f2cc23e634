import { signalDefaultAction, SignalDefaultAction } from "@sandbox/abi";
import { exitThreadGroup } from "./exit";
import type { Task } from "./task";
import type { ExitStatus, ThreadGroup } from "./thread-group";

/** Ends `group` as a fatal signal does. */
export function killThreadGroup(group: ThreadGroup, status: ExitStatus): void {
  exitThreadGroup(group, status);
}

/**
 * Delivers a synchronous signal that the application caused (a fault or an
 * exception): the process ends with the signal's default action.
 * NOTE: user handlers for synchronous signals are not run yet; the default action applies even when one is installed.
 */
export function deliverFaultSignal(task: Task, signo: number, code: number, addr: number): void {
  const action = signalDefaultAction(signo);
  const coreDumped = action === SignalDefaultAction.Core && coreDumpsEnabled(task);
  task.kernel.logger.debug(`signal ${signo} code ${code} addr 0x${addr.toString(16)} rip 0x${task.rip.toString(16)} ends the process`, task.tid);
  killThreadGroup(task.threadGroup, { kind: "signaled", signal: signo, coreDumped });
}

/** A core is reported (WCOREDUMP) only when RLIMIT_CORE allows a core file. */
function coreDumpsEnabled(task: Task): boolean {
  const RLIMIT_CORE = 4;
  const limit = task.threadGroup.rlimits.get(RLIMIT_CORE);
  return limit !== undefined && limit.soft > 0;
}
