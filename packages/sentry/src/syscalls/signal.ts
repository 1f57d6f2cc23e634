import { Errno, SyscallError } from "@sandbox/abi";
import { dequeueSignal, encodeSiginfo, ERESTARTNOHAND, ERESTARTSYS, pendingSignals, queueSignal, sigreturn } from "../kernel/signals";
import type { Task } from "../kernel/task";
import type { SignalInfo, ThreadGroup } from "../kernel/thread-group";
import { readTimespec } from "./time";
import type { SyscallGroup } from "./registry";

const SIGKILL = 9;
const SIGSTOP = 19;
const SIG_BLOCK = 0;
const SIG_UNBLOCK = 1;
const SIG_SETMASK = 2;
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

const SI_USER = 0;
const SI_TKILL = -6;

function userSignal(task: Task, signo: number, code: number): SignalInfo {
  return { signo, code, pid: task.threadGroup.pid, uid: task.credentials.uid, status: 0, addr: 0, value: 0n };
}

/** Sends `signo` to a process as kill(2) does; signal 0 only checks that the process exists. */
function sendSignal(task: Task, group: ThreadGroup, signo: number): void {
  if (signo === 0) return;
  queueSignal(group, undefined, userSignal(task, signo, SI_USER));
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
    sendSignal(task, findThreadGroup(task, pid), signo);
    return 0;
  }
  const pgid = pid === 0 ? task.threadGroup.pgid : -pid;
  const targets = [...task.kernel.threadGroups.values()].filter(
    (group) => !group.zombie && (pid === -1 ? group.pid !== 1 && group !== task.threadGroup : group.pgid === pgid),
  );
  if (targets.length === 0) throw new SyscallError(Errno.ESRCH);
  for (const group of targets) sendSignal(task, group, signo);
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
  if (signo !== 0) queueSignal(target.threadGroup, target, userSignal(task, signo, SI_TKILL));
  return 0;
}

/** tkill(2). */
function tkill(task: Task): number {
  const tid = task.intArg(0);
  const signo = task.intArg(1);
  if (tid <= 0 || signo < 0 || signo > 64) throw new SyscallError(Errno.EINVAL);
  const target = task.kernel.tasks.get(tid);
  if (target === undefined) throw new SyscallError(Errno.ESRCH);
  if (signo !== 0) queueSignal(target.threadGroup, target, userSignal(task, signo, SI_TKILL));
  return 0;
}

/** rt_sigreturn(2): the registers come from the signal frame. */
function rtSigreturn(task: Task): undefined {
  sigreturn(task);
  return undefined;
}

function readSigset(task: Task, addr: number): bigint {
  if (task.numberArg(1) !== SIGSET_SIZE && task.numberArg(3) !== SIGSET_SIZE) throw new SyscallError(Errno.EINVAL);
  return new DataView(task.mm.copyIn(addr, SIGSET_SIZE).buffer).getBigUint64(0, true);
}

/** Waits until the task is interrupted (a signal arrived or the process exits). */
function waitForInterrupt(task: Task, timeoutMs?: number): Promise<boolean> {
  return new Promise((resolve) => {
    const signal = task.interruptSignal;
    if (signal.aborted) {
      resolve(true);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      if (timer !== undefined) clearTimeout(timer);
      resolve(true);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve(false);
      }, Math.max(0, timeoutMs));
    }
  });
}

/** rt_sigsuspend(2): replaces the mask until a handler has run. */
async function rtSigsuspend(task: Task): Promise<number> {
  if (task.numberArg(1) !== SIGSET_SIZE) throw new SyscallError(Errno.EINVAL);
  const mask = new DataView(task.mm.copyIn(task.numberArg(0), SIGSET_SIZE).buffer).getBigUint64(0, true) & ~UNBLOCKABLE;
  task.savedSignalMask = task.signalMask;
  task.signalMask = mask;
  while ((pendingSignals(task) & ~task.signalMask) === 0n && !task.exiting) await waitForInterrupt(task);
  return -ERESTARTNOHAND;
}

/** pause(2). */
async function pause(task: Task): Promise<number> {
  while ((pendingSignals(task) & ~task.signalMask) === 0n && !task.exiting) await waitForInterrupt(task);
  return -ERESTARTNOHAND;
}

/** rt_sigpending(2): pending signals that are blocked. */
function rtSigpending(task: Task): number {
  if (task.numberArg(1) > SIGSET_SIZE) throw new SyscallError(Errno.EINVAL);
  const view = new DataView(new ArrayBuffer(SIGSET_SIZE));
  view.setBigUint64(0, pendingSignals(task) & task.signalMask, true);
  task.mm.copyOut(task.numberArg(0), new Uint8Array(view.buffer, 0, task.numberArg(1)));
  return 0;
}

/** rt_sigtimedwait(2): takes a pending signal of the set, waiting up to the timeout. */
async function rtSigtimedwait(task: Task): Promise<number> {
  if (task.numberArg(3) !== SIGSET_SIZE) throw new SyscallError(Errno.EINVAL);
  const set = new DataView(task.mm.copyIn(task.numberArg(0), SIGSET_SIZE).buffer).getBigUint64(0, true) & ~UNBLOCKABLE;
  const infoAddr = task.numberArg(1);
  const timeoutAddr = task.numberArg(2);
  const timeoutMs = timeoutAddr === 0 ? undefined : Number(readTimespec(task, timeoutAddr) / 1_000_000n);
  const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
  task.waitedSignals = set;
  try {
    for (;;) {
      const info = dequeueSignal(task, set);
      if (info !== undefined) {
        if (infoAddr !== 0) task.mm.copyOut(infoAddr, encodeSiginfo(info));
        return info.signo;
      }
      if ((pendingSignals(task) & ~task.signalMask) !== 0n || task.exiting) return -ERESTARTSYS;
      const remaining = deadline === undefined ? undefined : deadline - Date.now();
      if (remaining !== undefined && remaining <= 0) throw new SyscallError(Errno.EAGAIN);
      await waitForInterrupt(task, remaining);
    }
  } finally {
    task.waitedSignals = 0n;
  }
}

function queuedInfo(task: Task, signo: number, addr: number): SignalInfo {
  const view = new DataView(task.mm.copyIn(addr, 128).buffer);
  const code = view.getInt32(8, true);
  // A process may not forge kernel-generated siginfo (si_code >= 0) or SI_TKILL for another process.
  if (code >= 0 || code === SI_TKILL) throw new SyscallError(Errno.EPERM);
  return { signo, code, pid: view.getInt32(16, true), uid: view.getUint32(20, true), status: 0, addr: 0, value: view.getBigUint64(24, true) };
}

/** rt_sigqueueinfo(2). */
function rtSigqueueinfo(task: Task): number {
  const signo = task.intArg(1);
  checkSignal(signo);
  const group = findThreadGroup(task, task.intArg(0));
  queueSignal(group, undefined, queuedInfo(task, signo, task.numberArg(2)));
  return 0;
}

/** rt_tgsigqueueinfo(2). */
function rtTgsigqueueinfo(task: Task): number {
  const signo = task.intArg(2);
  checkSignal(signo);
  const target = task.kernel.tasks.get(task.intArg(1));
  if (target === undefined || target.threadGroup.pid !== task.intArg(0)) throw new SyscallError(Errno.ESRCH);
  queueSignal(target.threadGroup, target, queuedInfo(task, signo, task.numberArg(3)));
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
  rt_sigreturn: rtSigreturn,
  rt_sigsuspend: rtSigsuspend,
  pause,
  rt_sigpending: rtSigpending,
  rt_sigtimedwait: rtSigtimedwait,
  rt_sigqueueinfo: rtSigqueueinfo,
  rt_tgsigqueueinfo: rtTgsigqueueinfo,
};
