import { execve as execProgram } from "../kernel/exec";
import type { Task } from "../kernel/task";
import { readByteString, readStringArray } from "../kernel/user-memory";
import type { SyscallGroup } from "./registry";

/** execve(2). The registers are set by the loader, so the handler returns no value. */
function execve(task: Task): undefined {
  const path = readByteString(task.mm, task.numberArg(0));
  const argv = readStringArray(task.mm, task.numberArg(1));
  const envp = readStringArray(task.mm, task.numberArg(2));
  execProgram(task, path, argv, envp);
  return undefined;
}

/** Program execution. */
export const execSyscalls: SyscallGroup = { execve };
