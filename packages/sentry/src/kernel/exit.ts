import type { Task } from "./task";
import type { ExitStatus, ThreadGroup } from "./thread-group";

/**
 * Ends one thread. The last thread to exit ends the process with `code`,
 * as exit(2) does when only one thread is left.
 */
export function exitTask(task: Task, code: number): void {
  task.exiting = true;
  const group = task.threadGroup;
  const othersRunning = [...group.tasks].some((other) => other !== task && !other.exiting);
  if (!othersRunning && group.exitStatus === undefined) group.exitStatus = { kind: "exited", code };
}

/** Ends every thread of `group` with `status`, as exit_group(2) and fatal signals do. */
export function exitThreadGroup(group: ThreadGroup, status: ExitStatus): void {
  group.exit(status);
}
