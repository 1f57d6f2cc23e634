import type { Task } from "../kernel/task";
import type { SyscallGroup } from "./registry";

const O_CLOEXEC = 0o2000000;

/** Creates a pipe and installs its read end and write end, as pipe2(2) does. */
function createPipe(task: Task, flags: number): number {
  const [readEnd, writeEnd] = task.kernel.pipes.createPipe(flags & ~O_CLOEXEC, { uid: task.credentials.euid, gid: task.credentials.egid });
  const closeOnExec = (flags & O_CLOEXEC) !== 0;
  let readFd: number | undefined;
  try {
    readFd = task.fdTable.install(readEnd, { closeOnExec });
    const writeFd = task.fdTable.install(writeEnd, { closeOnExec });
    const bytes = new Uint8Array(8);
    const view = new DataView(bytes.buffer);
    view.setInt32(0, readFd, true);
    view.setInt32(4, writeFd, true);
    try {
      task.mm.copyOut(task.numberArg(0), bytes);
    } catch (error) {
      task.fdTable.close(readFd);
      task.fdTable.close(writeFd);
      throw error;
    }
    return 0;
  } catch (error) {
    if (readFd === undefined) writeEnd.decRef();
    throw error;
  }
}

/** pipe(2). */
const pipe = (task: Task) => createPipe(task, 0);

/** pipe2(2). */
const pipe2 = (task: Task) => createPipe(task, task.intArg(1));

/** Pipes. */
export const pipeSyscalls: SyscallGroup = { pipe, pipe2 };
