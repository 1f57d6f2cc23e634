import { Errno, SyscallError } from "@sandbox/abi";
import {
  clone as cloneTask,
  CLONE_VFORK,
  CLONE_VM,
  CSIGNAL,
  type CloneRequest,
  type WaitResult,
  waitForChild,
  WALL,
  WCLONE,
  WCONTINUED,
  WEXITED,
  WNOHANG,
  WNOTHREAD,
  WNOWAIT,
  WUNTRACED,
} from "../kernel/process";
import type { Task } from "../kernel/task";
import { waitStatusWord } from "../kernel/thread-group";
import { writeInt32 } from "../kernel/user-memory";
import type { SyscallGroup } from "./registry";

const SIGCHLD = 17;
const P_ALL = 0;
const P_PID = 1;
const P_PGID = 2;
const P_PIDFD = 3;
const CLD_EXITED = 1;
const CLD_KILLED = 2;
const CLD_DUMPED = 3;
const CLD_STOPPED = 5;
const CLD_CONTINUED = 6;
const SIGCONT = 18;
const CLONE_ARGS_SIZE_VER0 = 64;

/** Starts a child and, for CLONE_VFORK, waits until it execs or exits. */
async function startChild(task: Task, request: CloneRequest): Promise<number> {
  const pid = cloneTask(task, request);
  if ((request.flags & CLONE_VFORK) !== 0) {
    const child = task.kernel.threadGroups.get(pid);
    if (child !== undefined && child.vforkDone === undefined && !child.zombie) {
      await new Promise<void>((resolve) => (child.vforkDone = resolve));
    }
  }
  return pid;
}

/** clone(2), with the x86-64 argument order (flags, stack, parent_tid, child_tid, tls). */
function clone(task: Task): Promise<number> {
  const flags = Number(task.arg(0) & 0xffff_ffffn);
  return startChild(task, {
    flags: flags & ~CSIGNAL,
    exitSignal: flags & CSIGNAL,
    stack: task.numberArg(1),
    parentTid: task.numberArg(2),
    childTid: task.numberArg(3),
    tls: task.arg(4),
  });
}

/** clone3(2): struct clone_args { flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, ... }. */
function clone3(task: Task): Promise<number> {
  const size = task.numberArg(1);
  if (size < CLONE_ARGS_SIZE_VER0 || size > 4096) throw new SyscallError(Errno.EINVAL);
  const view = new DataView(task.mm.copyIn(task.numberArg(0), CLONE_ARGS_SIZE_VER0).buffer);
  const flags = view.getBigUint64(0, true);
  const exitSignal = Number(view.getBigUint64(32, true));
  const stack = Number(view.getBigUint64(40, true));
  const stackSize = Number(view.getBigUint64(48, true));
  if (flags > 0xffff_ffffn || (flags & BigInt(CSIGNAL)) !== 0n || exitSignal > 64) throw new SyscallError(Errno.EINVAL);
  if ((stack === 0) !== (stackSize === 0)) throw new SyscallError(Errno.EINVAL);
  return startChild(task, {
    flags: Number(flags),
    exitSignal,
    stack: stack === 0 ? 0 : stack + stackSize,
    childTid: Number(view.getBigUint64(16, true)),
    parentTid: Number(view.getBigUint64(24, true)),
    tls: view.getBigUint64(56, true),
  });
}

/** fork(2). */
const fork = (task: Task) => startChild(task, { flags: 0, exitSignal: SIGCHLD, stack: 0, parentTid: 0, childTid: 0, tls: 0n });

/** vfork(2). */
const vfork = (task: Task) => startChild(task, { flags: CLONE_VM | CLONE_VFORK, exitSignal: SIGCHLD, stack: 0, parentTid: 0, childTid: 0, tls: 0n });

function selectorFor(task: Task, pid: number) {
  if (pid < -1) return { pid, pgid: -pid };
  if (pid === 0) return { pid: 0, pgid: task.threadGroup.pgid };
  return { pid };
}

/** The wait(2) status word of a wait result: exits as usual, stops as 0x7f | signal << 8, continues as 0xffff. */
function waitResultWord(result: WaitResult): number {
  const status = result.status;
  if (status.kind === "stopped") return 0x7f | (status.signal << 8);
  if (status.kind === "continued") return 0xffff;
  return waitStatusWord(status);
}

/** wait4(2). NOTE: the rusage of the child is reported as zeros. */
async function wait4(task: Task): Promise<number> {
  const pid = task.intArg(0);
  const statusAddr = task.numberArg(1);
  const options = task.intArg(2);
  const rusageAddr = task.numberArg(3);
  if ((options & ~(WNOHANG | WUNTRACED | WCONTINUED | WNOTHREAD | WALL | WCLONE)) !== 0) throw new SyscallError(Errno.EINVAL);
  if (pid === -0x8000_0000) throw new SyscallError(Errno.ESRCH);
  const result = await waitForChild(task, selectorFor(task, pid), options | WEXITED);
  if (result === undefined) return 0;
  if (statusAddr !== 0) writeInt32(task.mm, statusAddr, waitResultWord(result));
  if (rusageAddr !== 0) task.mm.copyOut(rusageAddr, new Uint8Array(144));
  return result.pid;
}

/** waitid(2). */
async function waitid(task: Task): Promise<number> {
  const idtype = task.intArg(0);
  const id = task.intArg(1);
  const infoAddr = task.numberArg(2);
  const options = task.intArg(3);
  if ((options & ~(WNOHANG | WUNTRACED | WEXITED | WCONTINUED | WNOWAIT | WNOTHREAD | WALL | WCLONE)) !== 0) throw new SyscallError(Errno.EINVAL);
  if ((options & (WEXITED | WUNTRACED | WCONTINUED)) === 0) throw new SyscallError(Errno.EINVAL);
  let selector;
  switch (idtype) {
    case P_ALL:
      selector = { pid: -1 };
      break;
    case P_PID:
      if (id <= 0) throw new SyscallError(Errno.EINVAL);
      selector = { pid: id };
      break;
    case P_PGID:
      if (id < 0) throw new SyscallError(Errno.EINVAL);
      selector = { pid: 0, pgid: id === 0 ? task.threadGroup.pgid : id };
      break;
    case P_PIDFD:
      throw new SyscallError(Errno.EINVAL, "pidfds are not supported");
    default:
      throw new SyscallError(Errno.EINVAL);
  }
  const result = await waitForChild(task, selector, options);
  if (infoAddr !== 0) {
    const bytes = new Uint8Array(128);
    if (result !== undefined) {
      const view = new DataView(bytes.buffer);
      const status = result.status;
      view.setInt32(0, SIGCHLD, true);
      const [code, value] =
        status.kind === "exited" ? [CLD_EXITED, status.code]
        : status.kind === "signaled" ? [status.coreDumped ? CLD_DUMPED : CLD_KILLED, status.signal]
        : status.kind === "stopped" ? [CLD_STOPPED, status.signal]
        : [CLD_CONTINUED, SIGCONT];
      view.setInt32(8, code, true);
      view.setInt32(16, result.pid, true);
      view.setUint32(20, result.uid, true);
      view.setInt32(24, value, true);
    }
    task.mm.copyOut(infoAddr, bytes);
  }
  return 0;
}

/** setpgid(2). */
function setpgid(task: Task): number {
  const pid = task.intArg(0);
  const pgid = task.intArg(1);
  if (pgid < 0) throw new SyscallError(Errno.EINVAL);
  const caller = task.threadGroup;
  const target = pid === 0 ? caller : task.kernel.threadGroups.get(pid);
  if (target === undefined || (target !== caller && target.parent !== caller)) throw new SyscallError(Errno.ESRCH);
  if (target.sid !== caller.sid) throw new SyscallError(Errno.EPERM);
  if (target.sid === target.pid) throw new SyscallError(Errno.EPERM);
  const newPgid = pgid === 0 ? target.pid : pgid;
  if (newPgid !== target.pid) {
    const exists = [...task.kernel.threadGroups.values()].some((group) => group.pgid === newPgid && group.sid === caller.sid);
    if (!exists) throw new SyscallError(Errno.EPERM);
  }
  target.pgid = newPgid;
  return 0;
}

/** setsid(2). */
function setsid(task: Task): number {
  const group = task.threadGroup;
  const leader = [...task.kernel.threadGroups.values()].some((other) => other.pgid === group.pid);
  if (leader) throw new SyscallError(Errno.EPERM);
  group.sid = group.pid;
  group.pgid = group.pid;
  return group.pid;
}

/** Process creation and waiting. */
export const waitSyscalls: SyscallGroup = { clone, clone3, fork, vfork, wait4, waitid, setpgid, setsid };
