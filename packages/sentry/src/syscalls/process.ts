import { Errno, SyscallError } from "@sandbox/abi";
import { exitTask, exitThreadGroup } from "../kernel/exit";
import type { Task } from "../kernel/task";
import type { SyscallGroup } from "./registry";

const ARCH_SET_GS = 0x1001;
const ARCH_SET_FS = 0x1002;
const ARCH_GET_FS = 0x1003;
const ARCH_GET_GS = 0x1004;
const ARCH_GET_CPUID = 0x1011;
const ARCH_SET_CPUID = 0x1012;
/** Highest canonical user address + 1; FS and GS bases must lie below it. */
const TASK_SIZE = 0x7fff_ffff_f000n;

/** exit(2): ends the calling thread. */
function exit(task: Task): undefined {
  exitTask(task, task.intArg(0) & 0xff);
  return undefined;
}

/** exit_group(2): ends every thread of the process. */
function exitGroup(task: Task): undefined {
  exitThreadGroup(task.threadGroup, { kind: "exited", code: task.intArg(0) & 0xff });
  return undefined;
}

/** getpid(2). */
const getpid = (task: Task) => task.threadGroup.pid;

/** getppid(2): 0 for the sandbox's init, as for a process whose parent is outside the pid namespace. */
const getppid = (task: Task) => task.threadGroup.parent?.pid ?? 0;

/** gettid(2). */
const gettid = (task: Task) => task.tid;

/** set_tid_address(2): records the clear_child_tid address and returns the tid. */
function setTidAddress(task: Task): number {
  task.clearChildTid = task.numberArg(0);
  return task.tid;
}

/** set_robust_list(2). */
function setRobustList(task: Task): number {
  if (task.numberArg(1) !== 24) throw new SyscallError(Errno.EINVAL, "robust list head must be 24 bytes");
  task.robustList = task.numberArg(0);
  task.robustListLength = 24;
  return 0;
}

/** get_robust_list(2) for the calling task (pid 0) or itself. */
function getRobustList(task: Task): number {
  const pid = task.intArg(0);
  if (pid !== 0 && pid !== task.tid) throw new SyscallError(Errno.ESRCH);
  const head = new DataView(new ArrayBuffer(8));
  head.setBigUint64(0, BigInt(task.robustList), true);
  task.mm.copyOut(task.numberArg(1), new Uint8Array(head.buffer));
  const length = new DataView(new ArrayBuffer(8));
  length.setBigUint64(0, BigInt(task.robustListLength), true);
  task.mm.copyOut(task.numberArg(2), new Uint8Array(length.buffer));
  return 0;
}

/** arch_prctl(2): FS and GS bases; CPUID faulting is not offered. */
function archPrctl(task: Task): number {
  const code = task.intArg(0);
  const value = task.arg(1);
  switch (code) {
    case ARCH_SET_FS:
      if (value >= TASK_SIZE) throw new SyscallError(Errno.EPERM);
      task.regs.fsBase = value;
      return 0;
    case ARCH_SET_GS:
      if (value >= TASK_SIZE) throw new SyscallError(Errno.EPERM);
      task.regs.set(/* gs_base */ 176, value);
      return 0;
    case ARCH_GET_FS:
    case ARCH_GET_GS: {
      const base = code === ARCH_GET_FS ? task.regs.fsBase : task.regs.get(176);
      const bytes = new DataView(new ArrayBuffer(8));
      bytes.setBigUint64(0, base, true);
      task.mm.copyOut(Number(value), new Uint8Array(bytes.buffer));
      return 0;
    }
    case ARCH_GET_CPUID:
      return 1;
    case ARCH_SET_CPUID:
      throw new SyscallError(Errno.ENODEV);
    default:
      throw new SyscallError(Errno.EINVAL);
  }
}

/** getuid(2) and friends read the thread group's credentials. */
const getuid = (task: Task) => task.credentials.uid;
const geteuid = (task: Task) => task.credentials.euid;
const getgid = (task: Task) => task.credentials.gid;
const getegid = (task: Task) => task.credentials.egid;

function writeU32Triple(task: Task, values: readonly number[]): number {
  for (let i = 0; i < 3; i++) {
    const bytes = new DataView(new ArrayBuffer(4));
    bytes.setUint32(0, values[i], true);
    task.mm.copyOut(task.numberArg(i), new Uint8Array(bytes.buffer));
  }
  return 0;
}

/** getresuid(2). */
const getresuid = (task: Task) => writeU32Triple(task, [task.credentials.uid, task.credentials.euid, task.credentials.suid]);
/** getresgid(2). */
const getresgid = (task: Task) => writeU32Triple(task, [task.credentials.gid, task.credentials.egid, task.credentials.sgid]);

/** getgroups(2). */
function getgroups(task: Task): number {
  const groups = task.credentials.groups;
  const size = task.intArg(0);
  if (size < 0) throw new SyscallError(Errno.EINVAL);
  if (size === 0) return groups.length;
  if (size < groups.length) throw new SyscallError(Errno.EINVAL);
  const bytes = new Uint8Array(groups.length * 4);
  const view = new DataView(bytes.buffer);
  groups.forEach((gid, i) => view.setUint32(i * 4, gid, true));
  task.mm.copyOut(task.numberArg(1), bytes);
  return groups.length;
}

/** getpgrp(2). */
const getpgrp = (task: Task) => task.threadGroup.pgid;

/** getpgid(2). */
function getpgid(task: Task): number {
  const target = lookupProcess(task, task.intArg(0));
  return target.pgid;
}

/** getsid(2). */
function getsid(task: Task): number {
  return lookupProcess(task, task.intArg(0)).sid;
}

function lookupProcess(task: Task, pid: number) {
  if (pid === 0) return task.threadGroup;
  const found = task.kernel.threadGroups.get(pid);
  if (found === undefined) throw new SyscallError(Errno.ESRCH);
  return found;
}

/** sched_yield(2). */
const schedYield = () => 0;

/** sched_getaffinity(2): every sandbox task may run on the host's CPUs. */
function schedGetaffinity(task: Task): number {
  const size = task.numberArg(1);
  const cpus = task.kernel.cpuCount;
  const bytesNeeded = Math.ceil(cpus / 64) * 8;
  if (size < bytesNeeded || size % 8 !== 0) throw new SyscallError(Errno.EINVAL);
  const mask = new Uint8Array(bytesNeeded);
  for (let cpu = 0; cpu < cpus; cpu++) mask[cpu >> 3] |= 1 << (cpu & 7);
  task.mm.copyOut(task.numberArg(2), mask);
  return bytesNeeded;
}

/** The process-related system calls. */
export const processSyscalls: SyscallGroup = {
  exit,
  exit_group: exitGroup,
  getpid,
  getppid,
  gettid,
  set_tid_address: setTidAddress,
  set_robust_list: setRobustList,
  get_robust_list: getRobustList,
  arch_prctl: archPrctl,
  getuid,
  geteuid,
  getgid,
  getegid,
  getresuid,
  getresgid,
  getgroups,
  getpgrp,
  getpgid,
  getsid,
  sched_yield: schedYield,
  sched_getaffinity: schedGetaffinity,
};
