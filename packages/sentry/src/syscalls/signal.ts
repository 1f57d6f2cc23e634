import { Errno, SignalDefaultAction, signalDefaultAction, SyscallError } from "@sandbox/abi";
import { killThreadGroup } from "../kernel/signals";
import type { Task } from "../kernel/task";
import type { ThreadGroup } from "../kernel/thread-group";
import type { SyscallGroup } from "./registry";

const SIGKILL = 9;
const SIGSTOP = 19;
const SIG_BLOCK = 0;
const SIG_UNBLOCK = 1;
const SIG_SETMASK = 2;
const SIG_IGN = 1n;
/** Size of the kernel's sigset_t on x86-64. */
const SIGSET_SIZE = 8;
/** Bytes of struct kernel_sigaction on x86-64: handler, flags, restorer, mask. */
const SIGACTION_SIZE = 32;
const UNBLOCKABLE = (1n << BigInt(SIGKILL - 1)) | (1n << BigInt(SIGSTOP - 1));

function checkSignal(signo: number): void {
  if (signo < 1 || signo > 64) throw new SyscallError(Errno.EINVAL, `invalid signal ${signo}`);
}

/** rt_sigaction(2). */
function rtSigaction(task: Task): number {
  const signo = task.intArg(0);
  const actAddr = task.numberArg(1);
  const oldAddr = task.numberArg(2);
  if (task.numberArg(3) !== SIGSET_SIZE) throw new SyscallError(Errno.EINVAL);
  checkSignal(signo);
  const actions = task.threadGroup.signalActions;
  const old = { ...actions[signo] };

  if (actAddr !== 0) {
    if (signo === SIGKILL || signo === SIGSTOP) throw new SyscallError(Errno.EINVAL);
    const view = new DataView(task.mm.copyIn(actAddr, SIGACTION_SIZE).buffer);
    actions[signo] = {
      handler: view.getBigUint64(0, true),
      flags: view.getBigUint64(8, true),
      restorer: view.getBigUint64(16, true),
      mask: view.getBigUint64(24, true) & ~UNBLOCKABLE,
    };
  }
  if (oldAddr !== 0) {
    const view = new DataView(new ArrayBuffer(SIGACTION_SIZE));
    view.setBigUint64(0, old.handler, true);
    view.setBigUint64(8, old.flags, true);
    view.setBigUint64(16, old.restorer, true);
    view.setBigUint64(24, old.mask, true);
    task.mm.copyOut(oldAddr, new Uint8Array(view.buffer));
  }
  return 0;
}

/** rt_sigprocmask(2). */
function rtSigprocmask(task: Task): number {
  const how = task.intArg(0);
  const setAddr = task.numberArg(1);
  const oldAddr = task.numberArg(2);
  if (task.numberArg(3) !== SIGSET_SIZE) throw new SyscallError(Errno.EINVAL);
  const old = task.signalMask;
  if (setAddr !== 0) {
    const set = new DataView(task.mm.copyIn(setAddr, SIGSET_SIZE).buffer).getBigUint64(0, true) & ~UNBLOCKABLE;
    switch (how) {
      case SIG_BLOCK:
        task.signalMask = old | set;
        break;
      case SIG_UNBLOCK:
        task.signalMask = old & ~set;
        break;
      case SIG_SETMASK:
        task.signalMask = set;
        break;
      default:
        throw new SyscallError(Errno.EINVAL);
    }
  }
  if (oldAddr !== 0) {
    const view = new DataView(new ArrayBuffer(SIGSET_SIZE));
    view.setBigUint64(0, old, true);
    task.mm.copyOut(oldAddr, new Uint8Array(view.buffer));
  }
  return 0;
}

/** sigaltstack(2): records the alternate stack (stack_t: sp, flags, size). */
function sigaltstack(task: Task): number {
  const newAddr = task.numberArg(0);
  const oldAddr = task.numberArg(1);
  const old = task.altStack;
  if (newAddr !== 0) {
    const view = new DataView(task.mm.copyIn(newAddr, 24).buffer);
    const flags = view.getInt32(8, true);
    const SS_DISABLE = 2;
    const MINSIGSTKSZ = 2048;
    if ((flags & ~(SS_DISABLE | 0x80000000)) !== 0) throw new SyscallError(Errno.EINVAL);
    const size = Number(view.getBigUint64(16, true));
    if ((flags & SS_DISABLE) === 0 && size < MINSIGSTKSZ) throw new SyscallError(Errno.ENOMEM);
    task.altStack = { sp: Number(view.getBigUint64(0, true)), flags, size };
  }
  if (oldAddr !== 0) {
    const view = new DataView(new ArrayBuffer(24));
    view.setBigUint64(0, BigInt(old.sp), true);
    view.setInt32(8, old.flags, true);
    view.setBigUint64(16, BigInt(old.size), true);
    task.mm.copyOut(oldAddr, new Uint8Array(view.buffer));
  }
  return 0;
}

/**
 * Applies signal `signo` sent to `group`: ignored signals are dropped and
 * fatal ones end the process.
 * NOTE: user handlers are not run yet; a caught signal is dropped.
 */
function sendSignal(group: ThreadGroup, signo: number): void {
  if (signo === 0) return;
  const action = group.signalActions[signo];
  if (signo !== SIGKILL && signo !== SIGSTOP && action.handler !== 0n) return;
  if (action.handler === SIG_IGN) return;
  const defaultAction = signalDefaultAction(signo);
  if (defaultAction === SignalDefaultAction.Terminate || defaultAction === SignalDefaultAction.Core) {
    const RLIMIT_CORE = 4;
    const coreDumped = defaultAction === SignalDefaultAction.Core && (group.rlimits.get(RLIMIT_CORE)?.soft ?? 0) > 0;
    killThreadGroup(group, { kind: "signaled", signal: signo, coreDumped });
  }
}

function findThreadGroup(task: Task, pid: number): ThreadGroup {
  const group = pid === 0 ? task.threadGroup : task.kernel.threadGroups.get(pid);
  if (group === undefined) throw new SyscallError(Errno.ESRCH);
  return group;
}

/** kill(2) to one process; process groups and -1 reach every process of the sandbox they name. */
function kill(task: Task): number {
  const pid = task.intArg(0);
  const signo = task.intArg(1);
  if (signo < 0 || signo > 64) throw new SyscallError(Errno.EINVAL);
  if (pid > 0) {
    sendSignal(findThreadGroup(task, pid), signo);
    return 0;
  }
  const pgid = pid === 0 ? task.threadGroup.pgid : -pid;
  const targets = [...task.kernel.threadGroups.values()].filter((group) => pid === -1 || group.pgid === pgid);
  if (targets.length === 0) throw new SyscallError(Errno.ESRCH);
  for (const group of targets) sendSignal(group, signo);
  return 0;
}

/** tgkill(2). */
function tgkill(task: Task): number {
  const tgid = task.intArg(0);
  const tid = task.intArg(1);
  const signo = task.intArg(2);
  if (tgid <= 0 || tid <= 0 || signo < 0 || signo > 64) throw new SyscallError(Errno.EINVAL);
  const target = task.kernel.tasks.get(tid);
  if (target === undefined || target.threadGroup.pid !== tgid) throw new SyscallError(Errno.ESRCH);
  sendSignal(target.threadGroup, signo);
  return 0;
}

/** tkill(2). */
function tkill(task: Task): number {
  const tid = task.intArg(0);
  const signo = task.intArg(1);
  if (tid <= 0 || signo < 0 || signo > 64) throw new SyscallError(Errno.EINVAL);
  const target = task.kernel.tasks.get(tid);
  if (target === undefined) throw new SyscallError(Errno.ESRCH);
  sendSignal(target.threadGroup, signo);
  return 0;
}

/** The signal system calls. */
export const signalSyscalls: SyscallGroup = {
  rt_sigaction: rtSigaction,
  rt_sigprocmask: rtSigprocmask,
  sigaltstack,
  kill,
  tgkill,
  tkill,
};
