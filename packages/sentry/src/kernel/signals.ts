import { Errno, FXSAVE_SIZE, initialFxsave, SignalDefaultAction, signalDefaultAction, SyscallError, UserRegsOffset } from "@sandbox/abi";
import { exitThreadGroup } from "./exit";
import { frameFpState, restoredFpState } from "./fpstate";
import { continueThreadGroup, isOrphanedProcessGroup, STOP_SIGNALS, stopThreadGroup } from "./job-control";
import type { Task } from "./task";
import type { ExitStatus, SignalInfo, ThreadGroup } from "./thread-group";

const SIGKILL = 9;
const SIGSEGV = 11;
/** si_code of a signal the kernel sent on its own. */
const SI_KERNEL = 0x80;
const SIGSTOP = 19;
const SIGCONT = 18;
const SIG_DFL = 0n;
const SIG_IGN = 1n;
const SA_SIGINFO = 0x4n;
const SA_ONSTACK = 0x0800_0000n;
const SA_RESTART = 0x1000_0000n;
const SA_NODEFER = 0x4000_0000n;
const SA_RESETHAND = 0x8000_0000n;
const SA_RESTORER = 0x0400_0000n;
const SS_ONSTACK = 1;
const SS_DISABLE = 2;
const SS_AUTODISARM = 0x8000_0000;
const RLIMIT_CORE = 4;
/** Internal errno values a blocking system call returns when a signal interrupts it (include/linux/errno.h). */
export const ERESTARTSYS = 512;
export const ERESTARTNOINTR = 513;
export const ERESTARTNOHAND = 514;
export const ERESTART_RESTARTBLOCK = 516;
const UNBLOCKABLE = bit(SIGKILL) | bit(SIGSTOP);

/** Size of the x86-64 red zone below the stack pointer that a signal frame skips. */
const RED_ZONE = 128;
const UCONTEXT_SIZE = 304;
const SIGINFO_SIZE = 128;
/** struct rt_sigframe: the return address, the ucontext and the siginfo. */
const FRAME_SIZE = 8 + UCONTEXT_SIZE + SIGINFO_SIZE;
/** uc_flags as Linux sets them on x86-64: an XSAVE image (UC_FP_XSTATE), and ss saved in the sigcontext. */
const UC_FP_XSTATE = 0x1n;
const UC_SIGCONTEXT_SS = 0x2n;
const UC_STRICT_RESTORE_SS = 0x4n;
const UC_STACK = 16;
const UC_MCONTEXT = 40;
const UC_SIGMASK = UC_MCONTEXT + 256;
const FRAME_UCONTEXT = 8;
const FRAME_SIGINFO = 8 + UCONTEXT_SIZE;

/** The general registers in struct sigcontext_64 order, as user_regs_struct offsets. */
const SIGCONTEXT_REGS = [
  UserRegsOffset.r8, UserRegsOffset.r9, UserRegsOffset.r10, UserRegsOffset.r11, UserRegsOffset.r12, UserRegsOffset.r13,
  UserRegsOffset.r14, UserRegsOffset.r15, UserRegsOffset.rdi, UserRegsOffset.rsi, UserRegsOffset.rbp, UserRegsOffset.rbx,
  UserRegsOffset.rdx, UserRegsOffset.rax, UserRegsOffset.rcx, UserRegsOffset.rsp, UserRegsOffset.rip, UserRegsOffset.eflags,
];

/** The mask bit of signal `signo`. */
export function bit(signo: number): bigint {
  return 1n << BigInt(signo - 1);
}

/** Ends `group` as a fatal signal does. */
export function killThreadGroup(group: ThreadGroup, status: ExitStatus): void {
  exitThreadGroup(group, status);
}

function fatalStatus(group: ThreadGroup, signo: number): ExitStatus {
  const core = signalDefaultAction(signo) === SignalDefaultAction.Core;
  return { kind: "signaled", signal: signo, coreDumped: core && (group.rlimits.get(RLIMIT_CORE)?.soft ?? 0) > 0 };
}

/** Reports whether `signo` would be discarded on arrival: ignored and not blocked by every thread. */
function isIgnored(group: ThreadGroup, signo: number): boolean {
  const handler = group.signalActions[signo].handler;
  if (handler === SIG_IGN) return true;
  return handler === SIG_DFL && signalDefaultAction(signo) === SignalDefaultAction.Ignore;
}

/**
 * Sends a signal to a process (`task` undefined) or to one of its threads.
 * SIGKILL ends the process at once; ignored signals are dropped; others
 * become pending and wake a thread that can take them.
 */
export function queueSignal(group: ThreadGroup, task: Task | undefined, info: SignalInfo): void {
  const signo = info.signo;
  if (group.zombie || group.exitStatus !== undefined) return;
  if (signo === SIGKILL) {
    killThreadGroup(group, fatalStatus(group, SIGKILL));
    return;
  }
  if (signo === SIGCONT) {
    continueThreadGroup(group);
  } else if ((STOP_SIGNALS & bit(signo)) !== 0n) {
    group.sharedPending &= ~bit(SIGCONT);
    for (const thread of group.tasks) thread.pending &= ~bit(SIGCONT);
  }
  const blockedEverywhere = [...group.tasks].every((thread) => (thread.signalMask & bit(signo)) !== 0n);
  if (isIgnored(group, signo) && !blockedEverywhere) return;

  const wakes = (thread: Task) => (thread.signalMask & bit(signo)) === 0n || (thread.waitedSignals & bit(signo)) !== 0n;
  if (task !== undefined) {
    if ((task.pending & bit(signo)) === 0n || signo >= 32) task.pendingInfo.set(signo, info);
    task.pending |= bit(signo);
    if (wakes(task)) task.interrupt();
    return;
  }
  if ((group.sharedPending & bit(signo)) === 0n || signo >= 32) group.sharedPendingInfo.set(signo, info);
  group.sharedPending |= bit(signo);
  const taker = [...group.tasks].find(wakes);
  taker?.interrupt();
}

/** Returns the signals pending for `task` (its own and its process's). */
export function pendingSignals(task: Task): bigint {
  return task.pending | task.threadGroup.sharedPending;
}

/** Removes and returns the lowest pending signal in `allowed`, with its siginfo. */
export function dequeueSignal(task: Task, allowed: bigint): SignalInfo | undefined {
  const group = task.threadGroup;
  for (const [pending, infos, owner] of [
    [task.pending, task.pendingInfo, "task"],
    [group.sharedPending, group.sharedPendingInfo, "group"],
  ] as const) {
    const ready = pending & allowed;
    if (ready === 0n) continue;
    let signo = 1;
    while ((ready & bit(signo)) === 0n) signo++;
    if (owner === "task") task.pending &= ~bit(signo);
    else group.sharedPending &= ~bit(signo);
    const info = infos.get(signo) ?? { signo, code: 0, pid: 0, uid: 0, status: 0, addr: 0, value: 0n };
    infos.delete(signo);
    return info;
  }
  return undefined;
}

/**
 * Delivers a synchronous signal that the application caused (a fault or an
 * exception). As Linux's force_sig does, a blocked or ignored signal is
 * unblocked and reset to the default action first.
 */
export function deliverFaultSignal(task: Task, signo: number, code: number, addr: number): void {
  const group = task.threadGroup;
  const action = group.signalActions[signo];
  if ((task.signalMask & bit(signo)) !== 0n || action.handler === SIG_IGN) {
    task.signalMask &= ~bit(signo);
    action.handler = SIG_DFL;
  }
  task.kernel.logger.debug(`signal ${signo} code ${code} addr 0x${addr.toString(16)} rip 0x${task.rip.toString(16)}`, task.tid);
  handleSignal(task, { signo, code, pid: 0, uid: 0, status: 0, addr, value: 0n });
}

/**
 * Delivers the pending signals that `task` does not block, before it returns
 * to the application: a handler gets a signal frame, default actions end the
 * process or are ignored. `syscallResult` is the raw result of a system call
 * just made, which decides whether it restarts.
 */
export function deliverPendingSignals(task: Task): void {
  for (;;) {
    if (task.exiting) return;
    const info = dequeueSignal(task, ~task.signalMask | UNBLOCKABLE);
    if (info === undefined) break;
    handleSignal(task, info);
  }
  finishRestart(task, false);
  if (task.savedSignalMask !== undefined) {
    task.signalMask = task.savedSignalMask;
    task.savedSignalMask = undefined;
  }
}

/** Applies a pending restart decision when no handler ran: the interrupted call is made again. */
function finishRestart(task: Task, handlerRuns: boolean, restartFlag = false): void {
  const restart = task.pendingRestart;
  if (restart === undefined) return;
  task.pendingRestart = undefined;
  const regs = task.regs;
  let again: boolean;
  switch (restart) {
    case ERESTARTNOINTR:
      again = true;
      break;
    case ERESTARTSYS:
      again = !handlerRuns || restartFlag;
      break;
    case ERESTARTNOHAND:
    case ERESTART_RESTARTBLOCK:
      again = !handlerRuns;
      break;
    default:
      return;
  }
  if (again) {
    regs.set(UserRegsOffset.rax, regs.get(UserRegsOffset.origRax));
    regs.rip = regs.rip - 2;
  } else {
    regs.setReturn(-Errno.EINTR);
  }
}

function handleSignal(task: Task, info: SignalInfo): void {
  const group = task.threadGroup;
  const signo = info.signo;
  const action = group.signalActions[signo];
  if (action.handler === SIG_IGN) return;
  if (action.handler === SIG_DFL) {
    const defaultAction = signalDefaultAction(signo);
    if (defaultAction === SignalDefaultAction.Terminate || defaultAction === SignalDefaultAction.Core) {
      killThreadGroup(group, fatalStatus(group, signo));
    } else if (defaultAction === SignalDefaultAction.Stop) {
      const fromTerminal = signo !== SIGSTOP;
      if (!fromTerminal || !isOrphanedProcessGroup(task.kernel, group.pgid)) stopThreadGroup(group, signo);
    }
    return;
  }

  finishRestart(task, true, (action.flags & SA_RESTART) !== 0n);
  try {
    setupFrame(task, info);
  } catch (error) {
    if (!(error instanceof SyscallError)) throw error;
    // The frame could not be written: Linux kills the process with SIGSEGV.
    killThreadGroup(group, fatalStatus(group, SIGSEGV));
    return;
  }
  if ((action.flags & SA_RESETHAND) !== 0n) {
    action.handler = SIG_DFL;
    action.flags &= ~SA_SIGINFO;
  }
}

/** Reports whether `sp` lies on the task's alternate signal stack. */
function onAltStack(task: Task, sp: number): boolean {
  const stack = task.altStack;
  return (stack.flags & SS_DISABLE) === 0 && sp > stack.sp && sp <= stack.sp + stack.size;
}

/** Encodes siginfo for `info` (the _kill, _sigchld and _sigfault layouts). */
export function encodeSiginfo(info: SignalInfo): Uint8Array {
  const bytes = new Uint8Array(SIGINFO_SIZE);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, info.signo, true);
  view.setInt32(8, info.code, true);
  const fault = info.signo === 4 || info.signo === 5 || info.signo === 7 || info.signo === 8 || info.signo === 11;
  if (fault && info.code > 0) {
    view.setBigUint64(16, BigInt(info.addr), true);
  } else {
    view.setInt32(16, info.pid, true);
    view.setUint32(20, info.uid, true);
    if (info.signo === 17) view.setInt32(24, info.status, true);
    else view.setBigUint64(24, info.value, true);
  }
  return bytes;
}

/**
 * Builds the x86-64 rt_sigframe on the user stack (or the alternate stack)
 * and points the registers at the handler, as Linux's setup_rt_frame does.
 */
function setupFrame(task: Task, info: SignalInfo): void {
  const group = task.threadGroup;
  const action = group.signalActions[info.signo];
  const regs = task.regs;
  const mm = task.mm;

  let sp = regs.rsp - RED_ZONE;
  const stack = task.altStack;
  const useAltStack = (action.flags & SA_ONSTACK) !== 0n && (stack.flags & SS_DISABLE) === 0 && !onAltStack(task, regs.rsp);
  if (useAltStack) sp = stack.sp + stack.size;

  const fpState = frameFpState(task.context.readFpState?.() ?? initialFxsave());
  sp -= fpState.length;
  sp -= sp % 64;
  const fpAddr = sp;
  let frame = sp - FRAME_SIZE;
  frame = frame - ((frame + 8) % 16);

  const bytes = new Uint8Array(FRAME_SIZE);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, action.restorer, true);
  const uc = FRAME_UCONTEXT;
  const xsave = fpState.length > FXSAVE_SIZE ? UC_FP_XSTATE : 0n;
  view.setBigUint64(uc, xsave | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS, true);
  view.setBigUint64(uc + UC_STACK, BigInt(stack.sp), true);
  view.setInt32(uc + UC_STACK + 8, onAltStack(task, regs.rsp) ? SS_ONSTACK : stack.flags & SS_DISABLE, true);
  view.setBigUint64(uc + UC_STACK + 16, BigInt(stack.size), true);
  const mc = uc + UC_MCONTEXT;
  SIGCONTEXT_REGS.forEach((offset, index) => view.setBigUint64(mc + index * 8, regs.get(offset), true));
  view.setUint16(mc + 144, Number(regs.get(UserRegsOffset.cs)), true);
  view.setUint16(mc + 150, Number(regs.get(UserRegsOffset.ss)), true);
  view.setBigUint64(mc + 160, BigInt(info.signo === SIGSEGV ? 14 : 0), true); // trapno
  const restoredMask = task.savedSignalMask ?? task.signalMask;
  task.savedSignalMask = undefined;
  view.setBigUint64(mc + 168, restoredMask, true); // oldmask
  view.setBigUint64(mc + 176, BigInt(info.signo === SIGSEGV ? info.addr : 0), true); // cr2
  view.setBigUint64(mc + 184, BigInt(fpAddr), true); // fpstate
  view.setBigUint64(uc + UC_SIGMASK, restoredMask, true);
  bytes.set(encodeSiginfo(info), FRAME_SIGINFO);

  mm.copyOut(fpAddr, fpState);
  mm.copyOut(frame, bytes);

  if ((action.flags & SA_RESTORER) === 0n) throw new SyscallError(Errno.EFAULT, "handler without SA_RESTORER");
  regs.rsp = frame;
  regs.rip = Number(action.handler);
  regs.set(UserRegsOffset.rdi, BigInt(info.signo));
  regs.set(UserRegsOffset.rsi, BigInt(frame + FRAME_SIGINFO));
  regs.set(UserRegsOffset.rdx, BigInt(frame + FRAME_UCONTEXT));
  regs.set(UserRegsOffset.rax, 0n);
  regs.set(UserRegsOffset.eflags, regs.get(UserRegsOffset.eflags) & ~0x4_0500n); // clear TF, DF and AC

  let mask = task.signalMask | action.mask;
  if ((action.flags & SA_NODEFER) === 0n) mask |= bit(info.signo);
  task.signalMask = mask & ~UNBLOCKABLE;
  if (useAltStack && (stack.flags & SS_AUTODISARM) !== 0) task.altStack = { sp: 0, flags: SS_DISABLE, size: 0 };
}

/** Restores the state saved by setupFrame, as rt_sigreturn(2) does. */
export function sigreturn(task: Task): void {
  const regs = task.regs;
  const frame = regs.rsp - 8;
  const bytes = task.mm.copyIn(frame, FRAME_SIZE);
  const view = new DataView(bytes.buffer);
  const mc = FRAME_UCONTEXT + UC_MCONTEXT;
  SIGCONTEXT_REGS.forEach((offset, index) => regs.set(offset, view.getBigUint64(mc + index * 8, true)));
  // Only the arithmetic and control flags a user may change are restored (Linux's FIX_EFLAGS).
  const userFlags = 0x4_0dd5n;
  const savedFlags = view.getBigUint64(mc + 17 * 8, true);
  regs.set(UserRegsOffset.eflags, (regs.get(UserRegsOffset.eflags) & ~userFlags) | (savedFlags & userFlags) | 0x2n);
  task.signalMask = view.getBigUint64(FRAME_UCONTEXT + UC_SIGMASK, true) & ~UNBLOCKABLE;
  regs.set(UserRegsOffset.origRax, -1n);

  const fpAddr = Number(view.getBigUint64(mc + 184, true));
  const current = task.context.readFpState?.();
  if (current !== undefined) {
    const restored = restoredFpState((addr, length) => task.mm.copyIn(addr, length), fpAddr, current);
    if (restored === undefined) {
      // Linux's badframe: the registers are restored, then SIGSEGV follows.
      deliverFaultSignal(task, SIGSEGV, SI_KERNEL, 0);
      return;
    }
    task.context.writeFpState?.(restored);
  }

  const stackFlags = view.getInt32(FRAME_UCONTEXT + UC_STACK + 8, true);
  const stackSp = Number(view.getBigUint64(FRAME_UCONTEXT + UC_STACK, true));
  const stackSize = Number(view.getBigUint64(FRAME_UCONTEXT + UC_STACK + 16, true));
  if ((stackFlags & SS_DISABLE) === 0 && stackSize > 0) task.altStack = { sp: stackSp, flags: stackFlags & ~SS_ONSTACK, size: stackSize };
}
