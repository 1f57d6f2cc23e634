import { syscallNumber } from "@sandbox/abi";
import type { Task } from "../kernel/task";

/**
 * A system call handler. It reads its arguments from the task's registers
 * and returns the result: a number or bigint (negative values are -errno),
 * or `undefined` when it has set the registers itself (execve,
 * rt_sigreturn). It may throw SyscallError, or return a promise when it
 * must wait.
 */
export type SyscallHandler = (task: Task) => SyscallResult | Promise<SyscallResult>;
export type SyscallResult = number | bigint | undefined;

/** Handlers by system call number. */
export type SyscallTable = Map<number, SyscallHandler>;

/** Handlers of one area, keyed by the Linux name of the system call. */
export type SyscallGroup = Readonly<Record<string, SyscallHandler>>;

/** Adds every handler of `group` to `table`; an unknown name or a duplicate is a bug. */
export function register(table: SyscallTable, group: SyscallGroup): void {
  for (const [name, handler] of Object.entries(group)) {
    const nr = syscallNumber(name);
    if (nr === undefined) throw new Error(`unknown syscall name ${name}`);
    if (table.has(nr)) throw new Error(`syscall ${name} registered twice`);
    table.set(nr, handler);
  }
}
