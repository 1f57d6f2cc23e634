import type { Kernel } from "./kernel";
import { bit, queueSignal } from "./signals";
import type { Task } from "./task";
import type { ThreadGroup } from "./thread-group";

const SIGCHLD = 17;
const SIGCONT = 18;
const SIGSTOP = 19;
const SIGTSTP = 20;
const SIGTTIN = 21;
const SIGTTOU = 22;
const SA_NOCLDSTOP = 1n;
const CLD_STOPPED = 5;
const CLD_CONTINUED = 6;
/** Signals whose default action stops the process. */
export const STOP_SIGNALS = bit(SIGSTOP) | bit(SIGTSTP) | bit(SIGTTIN) | bit(SIGTTOU);

/** The sandbox's controlling terminal: the host terminal of the first process's stdin. */
export interface Terminal {
  /** Session the terminal controls. */
  readonly sid: number;
  /** Process group in the foreground, which may read from the terminal. */
  foregroundPgrp: number;
}

/**
 * Reports whether the process group `pgid` is orphaned: no member has a
 * parent in another process group of the same session. Linux discards
 * SIGTSTP, SIGTTIN and SIGTTOU sent to such a group, since no shell could
 * continue it.
 */
export function isOrphanedProcessGroup(kernel: Kernel, pgid: number): boolean {
  for (const group of kernel.threadGroups.values()) {
    if (group.pgid !== pgid || group.zombie) continue;
    const parent = group.parent;
    if (parent !== undefined && parent.pgid !== pgid && parent.sid === group.sid) return false;
  }
  return true;
}

function notifyParent(group: ThreadGroup, code: number, status: number): void {
  const parent = group.parent;
  if (parent === undefined || parent.zombie) return;
  if ((parent.signalActions[SIGCHLD].flags & SA_NOCLDSTOP) === 0n) {
    queueSignal(parent, undefined, { signo: SIGCHLD, code, pid: group.pid, uid: group.credentials.uid, status, addr: 0, value: 0n });
  }
  parent.notifyChildWaiters();
}

/** Stops every thread of `group` as the default action of `signo` does, and notifies the parent. */
export function stopThreadGroup(group: ThreadGroup, signo: number): void {
  if (group.stopped || group.exitStatus !== undefined) return;
  group.stopped = true;
  group.stopSignal = signo;
  group.stopReported = false;
  notifyParent(group, CLD_STOPPED, signo);
}

/** Resumes a stopped `group`, as SIGCONT does when it arrives, and notifies the parent. */
export function continueThreadGroup(group: ThreadGroup): void {
  group.sharedPending &= ~STOP_SIGNALS;
  for (const task of group.tasks) task.pending &= ~STOP_SIGNALS;
  if (!group.stopped) return;
  group.stopped = false;
  group.continuedReported = false;
  for (const resume of [...group.resumeWaiters]) resume();
  notifyParent(group, CLD_CONTINUED, SIGCONT);
}

/** Waits while the task's process is stopped; returns early when the task is interrupted (SIGKILL, exit). */
export async function waitWhileStopped(task: Task): Promise<void> {
  const group = task.threadGroup;
  while (group.stopped && !task.exiting) {
    await new Promise<void>((resolve) => {
      const signal = task.interruptSignal;
      const done = () => {
        group.resumeWaiters.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      group.resumeWaiters.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
    if (task.exiting) return;
  }
}

export { SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU };
