import { Errno, SyscallError } from "@sandbox/abi";
import type { MemoryManager } from "@sandbox/mm";
import { PlatformError } from "@sandbox/platform";
import { forkMemoryManager } from "./exec";
import type { Kernel } from "./kernel";
import { ERESTARTSYS, queueSignal } from "./signals";
import type { Task } from "./task";
import { type ExitStatus, ThreadGroup, waitStatusWord } from "./thread-group";

export const CSIGNAL = 0xff;
export const CLONE_VM = 0x100;
export const CLONE_FS = 0x200;
export const CLONE_FILES = 0x400;
export const CLONE_SIGHAND = 0x800;
export const CLONE_PIDFD = 0x1000;
export const CLONE_PTRACE = 0x2000;
export const CLONE_VFORK = 0x4000;
export const CLONE_PARENT = 0x8000;
export const CLONE_THREAD = 0x10000;
export const CLONE_NEWNS = 0x20000;
export const CLONE_SYSVSEM = 0x40000;
export const CLONE_SETTLS = 0x80000;
export const CLONE_PARENT_SETTID = 0x100000;
export const CLONE_CHILD_CLEARTID = 0x200000;
export const CLONE_DETACHED = 0x400000;
export const CLONE_UNTRACED = 0x800000;
export const CLONE_CHILD_SETTID = 0x1000000;
export const CLONE_IO = 0x80000000;
const SIGCHLD = 17;
const SIG_IGN = 1n;
const SA_NOCLDWAIT = 2n;
const CLD_EXITED = 1;
const CLD_KILLED = 2;
const CLD_DUMPED = 3;
const RLIMIT_NPROC = 6;
const NAMESPACE_FLAGS = 0x7e020000 & ~CLONE_NEWNS;

/** Arguments of clone(2) and clone3(2), decoded. */
export interface CloneRequest {
  readonly flags: number;
  /** Signal sent to the parent when the child exits (the low byte of clone's flags). */
  readonly exitSignal: number;
  readonly stack: number;
  readonly parentTid: number;
  readonly childTid: number;
  readonly tls: bigint;
}

function writeTid(task: Task, addr: number, tid: number): void {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setInt32(0, tid, true);
  task.mm.copyOut(addr, bytes);
}

/**
 * Creates a thread or process as clone(2) does and starts it; returns the
 * child's id. The child resumes at the same instruction with rax = 0.
 */
export function clone(task: Task, request: CloneRequest): number {
  const { flags } = request;
  const kernel = task.kernel;
  const parentGroup = task.threadGroup;
  if ((flags & CLONE_THREAD) !== 0 && (flags & CLONE_SIGHAND) === 0) throw new SyscallError(Errno.EINVAL);
  if ((flags & CLONE_SIGHAND) !== 0 && (flags & CLONE_VM) === 0) throw new SyscallError(Errno.EINVAL);
  if ((flags & (CLONE_FS | CLONE_NEWNS)) === (CLONE_FS | CLONE_NEWNS)) throw new SyscallError(Errno.EINVAL);
  if ((flags & NAMESPACE_FLAGS) !== 0 || (flags & CLONE_NEWNS) !== 0) {
    // NOTE: namespaces inside the sandbox are not supported.
    throw new SyscallError(Errno.EINVAL, "clone with namespace flags");
  }

  if ((flags & CLONE_THREAD) === 0) checkProcessLimit(task);
  const tid = kernel.allocatePid();
  let group: ThreadGroup;
  if ((flags & CLONE_THREAD) !== 0) {
    group = parentGroup;
  } else {
    const mm = (flags & CLONE_VM) !== 0 ? parentGroup.mm : forkAddressSpace(kernel, parentGroup.mm);
    const fdTable = (flags & CLONE_FILES) !== 0 ? parentGroup.fdTable : parentGroup.fdTable.fork();
    const fs = (flags & CLONE_FS) !== 0 ? parentGroup.fs : { ...parentGroup.fs };
    const parent = (flags & CLONE_PARENT) !== 0 ? parentGroup.parent ?? parentGroup : parentGroup;
    group = new ThreadGroup(tid, parent, mm, fdTable, fs, { ...parentGroup.credentials, groups: [...parentGroup.credentials.groups] }, new Map(parentGroup.rlimits));
    group.pgid = parentGroup.pgid;
    group.sid = parentGroup.sid;
    group.signalActions = (flags & CLONE_SIGHAND) !== 0 ? parentGroup.signalActions : parentGroup.signalActions.map((action) => ({ ...action }));
    group.exitSignal = request.exitSignal;
    group.executablePath = parentGroup.executablePath;
    group.argv = parentGroup.argv;
    group.envp = parentGroup.envp;
    parent.children.add(group);
    kernel.threadGroups.set(tid, group);
  }

  const child = kernel.newTask(group, tid);
  child.regs.copyFrom(task.regs);
  child.regs.setReturn(0);
  const fpState = task.context.readFpState?.();
  if (fpState !== undefined) child.context.writeFpState?.(fpState);
  if (request.stack !== 0) child.regs.rsp = request.stack;
  if ((flags & CLONE_SETTLS) !== 0) child.regs.fsBase = request.tls;
  child.signalMask = task.signalMask;
  child.name = task.name;
  if ((flags & CLONE_CHILD_CLEARTID) !== 0) child.clearChildTid = request.childTid;
  if ((flags & CLONE_PARENT_SETTID) !== 0) writeTid(task, request.parentTid, tid);
  if ((flags & CLONE_CHILD_SETTID) !== 0) writeTid(child, request.childTid, tid);

  kernel.startTask(child);
  return tid;
}

/** Copies the address space for fork; the host running out of processes for the new stub is EAGAIN, as fork's own limits are. */
function forkAddressSpace(kernel: Kernel, mm: MemoryManager): MemoryManager {
  try {
    return forkMemoryManager(kernel, mm);
  } catch (error) {
    if (!(error instanceof PlatformError)) throw error;
    kernel.logger.warning(`fork failed on the host: ${error.message}`);
    throw new SyscallError(Errno.EAGAIN, error.message);
  }
}

/** Fails with EAGAIN when the user already has RLIMIT_NPROC processes, as fork does for unprivileged users. */
function checkProcessLimit(task: Task): void {
  const limit = task.threadGroup.rlimits.get(RLIMIT_NPROC)?.soft ?? Infinity;
  if (task.credentials.euid === 0 || limit === Infinity) return;
  const uid = task.credentials.uid;
  let count = 0;
  for (const group of task.kernel.threadGroups.values()) {
    if (group.credentials.uid === uid && !group.zombie) count++;
  }
  if (count >= limit) throw new SyscallError(Errno.EAGAIN, "RLIMIT_NPROC reached");
}

/** Returns the si_code and si_status of an exit: the code, or the signal of a killed process. */
function childInfo(status: ExitStatus): { code: number; status: number } {
  if (status.kind === "exited") return { code: CLD_EXITED, status: status.code };
  return { code: status.coreDumped ? CLD_DUMPED : CLD_KILLED, status: status.signal };
}

/**
 * Turns an exited process into a zombie: its children go to init, its
 * parent gets the exit signal and wakes from wait, or reaps it at once when
 * it ignores SIGCHLD.
 */
export function becomeZombie(kernel: Kernel, group: ThreadGroup): void {
  group.zombie = true;
  const init = kernel.threadGroups.get(1);
  for (const child of group.children) {
    child.parent = init;
    if (init !== undefined && init !== group) {
      init.children.add(child);
      if (child.zombie) init.notifyChildWaiters();
    }
  }
  group.children.clear();

  const parent = group.parent;
  if (parent === undefined || parent.zombie) {
    release(kernel, group);
    return;
  }
  const status = group.exitStatus ?? { kind: "exited", code: 0 };
  const action = parent.signalActions[SIGCHLD];
  const autoReap = group.exitSignal === SIGCHLD && (action.handler === SIG_IGN || (action.flags & SA_NOCLDWAIT) !== 0n);
  if (group.exitSignal !== 0) {
    const { code, status: info } = childInfo(status);
    queueSignal(parent, undefined, { signo: group.exitSignal, code, pid: group.pid, uid: group.credentials.uid, status: info, addr: 0, value: 0n });
  }
  if (autoReap) {
    parent.children.delete(group);
    release(kernel, group);
  }
  parent.notifyChildWaiters();
}

function release(kernel: Kernel, group: ThreadGroup): void {
  if (kernel.threadGroups.get(group.pid) === group && group.pid !== 1) kernel.threadGroups.delete(group.pid);
}

/** The children that a wait call accepts. */
export interface WaitSelector {
  /** -1: any child; > 0: that pid; otherwise the process group -pid (0: the caller's). */
  readonly pid: number;
  readonly pgid?: number;
}

export const WNOHANG = 1;
export const WUNTRACED = 2;
export const WEXITED = 4;
export const WCONTINUED = 8;
export const WNOWAIT = 0x01000000;
export const WNOTHREAD = 0x20000000;
export const WALL = 0x40000000;
export const WCLONE = 0x80000000;

/** A child whose state change a wait call reports. */
export interface WaitResult {
  readonly pid: number;
  readonly uid: number;
  /** An exit, or a stop or continue reported to WUNTRACED / WCONTINUED. */
  readonly status: ExitStatus | { readonly kind: "stopped"; readonly signal: number } | { readonly kind: "continued" };
}

function matches(group: ThreadGroup, selector: WaitSelector): boolean {
  if (selector.pid === -1) return true;
  if (selector.pid > 0) return group.pid === selector.pid;
  return group.pgid === selector.pgid;
}

/** Returns the children of the caller's process, which its threads share. */
function childrenOf(task: Task): ThreadGroup[] {
  return [...task.threadGroup.children];
}

/**
 * Waits for a child to exit, as wait4 and waitid do. Resolves with the child,
 * or undefined for WNOHANG with no child ready. ECHILD when no child matches,
 * EINTR when a signal interrupts the wait.
 */
export async function waitForChild(task: Task, selector: WaitSelector, options: number): Promise<WaitResult | undefined> {
  const group = task.threadGroup;
  for (;;) {
    const candidates = childrenOf(task).filter((child) => matches(child, selector) && wantsChild(child, options));
    if (candidates.length === 0) throw new SyscallError(Errno.ECHILD);
    const zombie = candidates.find((child) => child.zombie);
    if (zombie !== undefined && (options & WEXITED) !== 0) {
      const status = zombie.exitStatus ?? { kind: "exited", code: 0 };
      if ((options & WNOWAIT) === 0) {
        group.children.delete(zombie);
        release(task.kernel, zombie);
      }
      return { pid: zombie.pid, uid: zombie.credentials.uid, status };
    }
    const stopped = candidates.find((child) => !child.zombie && child.stopped && !child.stopReported);
    if (stopped !== undefined && (options & WUNTRACED) !== 0) {
      if ((options & WNOWAIT) === 0) stopped.stopReported = true;
      return { pid: stopped.pid, uid: stopped.credentials.uid, status: { kind: "stopped", signal: stopped.stopSignal } };
    }
    const continued = candidates.find((child) => !child.zombie && !child.stopped && !child.continuedReported);
    if (continued !== undefined && (options & WCONTINUED) !== 0) {
      if ((options & WNOWAIT) === 0) continued.continuedReported = true;
      return { pid: continued.pid, uid: continued.credentials.uid, status: { kind: "continued" } };
    }
    if ((options & WNOHANG) !== 0) return undefined;
    await waitForChildEvent(task);
  }
}

/** __WCLONE selects children whose exit signal is not SIGCHLD, __WALL both kinds. */
function wantsChild(child: ThreadGroup, options: number): boolean {
  if ((options & WALL) !== 0) return true;
  const clone = child.exitSignal !== SIGCHLD;
  return (options & WCLONE) !== 0 ? clone : !clone;
}

function waitForChildEvent(task: Task): Promise<void> {
  const group = task.threadGroup;
  return new Promise((resolve, reject) => {
    const signal = task.interruptSignal;
    const done = () => {
      group.childWaiters.delete(done);
      signal.removeEventListener("abort", onAbort);
      resolve();
    };
    const onAbort = () => {
      group.childWaiters.delete(done);
      reject(new SyscallError(ERESTARTSYS));
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    group.childWaiters.add(done);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

export { waitStatusWord };
