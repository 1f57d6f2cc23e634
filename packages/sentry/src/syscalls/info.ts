import { randomFillSync } from "node:crypto";
import { Errno, SyscallError } from "@sandbox/abi";
import type { Task } from "../kernel/task";
import type { Rlimit } from "../kernel/thread-group";
import type { SyscallGroup } from "./registry";

const UTSNAME_FIELD = 65;
/** The kernel release the sandbox reports; programs compare it against minimum versions. */
export const SANDBOX_KERNEL_RELEASE = "6.18.0-sandbox";
const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;
const RLIMIT_COUNT = 16;
const RLIMIT_NOFILE = 7;
const NR_OPEN = 1024 * 1024;
const GRND_NONBLOCK = 1;
const GRND_RANDOM = 2;
const GRND_INSECURE = 4;
const PR_SET_PDEATHSIG = 1;
const PR_GET_PDEATHSIG = 2;
const PR_GET_DUMPABLE = 3;
const PR_SET_DUMPABLE = 4;
const PR_SET_NAME = 15;
const PR_GET_NAME = 16;
const PR_GET_SECCOMP = 21;
const PR_SET_NO_NEW_PRIVS = 38;
const PR_GET_NO_NEW_PRIVS = 39;

/** uname(2): the sandbox's own host name and a Linux 6.18 identity. */
function uname(task: Task): number {
  const fields = ["Linux", task.kernel.options.hostname, SANDBOX_KERNEL_RELEASE, "#1 SMP PREEMPT_DYNAMIC sandbox", "x86_64", "(none)"];
  const bytes = new Uint8Array(UTSNAME_FIELD * fields.length);
  const encoder = new TextEncoder();
  fields.forEach((field, i) => bytes.set(encoder.encode(field).subarray(0, UTSNAME_FIELD - 1), i * UTSNAME_FIELD));
  task.mm.copyOut(task.numberArg(0), bytes);
  return 0;
}

/** sysinfo(2): uptime, memory and process count of the sandbox. */
function sysinfo(task: Task): number {
  const bytes = new Uint8Array(112);
  const view = new DataView(bytes.buffer);
  const uptime = (process.hrtime.bigint() - task.kernel.bootTime) / 1_000_000_000n;
  view.setBigInt64(0, uptime, true);
  const total = BigInt(task.kernel.memoryLimit);
  view.setBigUint64(32, total, true); // totalram
  view.setBigUint64(40, total - BigInt(task.kernel.options.memoryFile.allocatedBytes()), true); // freeram
  view.setUint16(80, task.kernel.threadGroups.size, true); // procs
  view.setUint32(104, 1, true); // mem_unit
  task.mm.copyOut(task.numberArg(0), bytes);
  return 0;
}

/** getrandom(2): bytes from the host's CSPRNG through Node's crypto. */
function getrandom(task: Task): number {
  const length = Math.min(task.numberArg(1), 33554431);
  const flags = task.intArg(2);
  if ((flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)) !== 0 || (flags & GRND_RANDOM && flags & GRND_INSECURE)) {
    throw new SyscallError(Errno.EINVAL);
  }
  const bytes = randomFillSync(new Uint8Array(length));
  task.mm.copyOut(task.numberArg(0), bytes);
  return length;
}

function encodeRlimit(limit: Rlimit): Uint8Array {
  const view = new DataView(new ArrayBuffer(16));
  view.setBigUint64(0, limit.soft === Infinity ? RLIM_INFINITY : BigInt(limit.soft), true);
  view.setBigUint64(8, limit.hard === Infinity ? RLIM_INFINITY : BigInt(limit.hard), true);
  return new Uint8Array(view.buffer);
}

function decodeRlimit(bytes: Uint8Array): Rlimit {
  const view = new DataView(bytes.buffer, bytes.byteOffset, 16);
  const toLimit = (value: bigint) => (value === RLIM_INFINITY ? Infinity : Number(value));
  return { soft: toLimit(view.getBigUint64(0, true)), hard: toLimit(view.getBigUint64(8, true)) };
}

function currentRlimit(task: Task, resource: number): Rlimit {
  return task.threadGroup.rlimits.get(resource) ?? { soft: Infinity, hard: Infinity };
}

/** Applies setrlimit's rules: soft <= hard, and raising a hard limit needs privilege. */
function setRlimit(task: Task, resource: number, limit: Rlimit): void {
  const old = currentRlimit(task, resource);
  if (limit.soft > limit.hard) throw new SyscallError(Errno.EINVAL);
  if (limit.hard > old.hard && task.credentials.euid !== 0) throw new SyscallError(Errno.EPERM);
  if (resource === RLIMIT_NOFILE && limit.hard > NR_OPEN) throw new SyscallError(Errno.EPERM);
  task.threadGroup.rlimits.set(resource, { ...limit });
}

/** prlimit64(2) on the calling process (pid 0 or its own pid). */
function prlimit64(task: Task): number {
  const pid = task.intArg(0);
  const resource = task.intArg(1);
  if (resource < 0 || resource >= RLIMIT_COUNT) throw new SyscallError(Errno.EINVAL);
  const target = pid === 0 ? task : task.kernel.threadGroups.get(pid)?.tasks.values().next().value;
  if (target === undefined) throw new SyscallError(Errno.ESRCH);
  const newAddr = task.numberArg(2);
  const oldAddr = task.numberArg(3);
  const old = currentRlimit(target, resource);
  if (newAddr !== 0) setRlimit(target, resource, decodeRlimit(task.mm.copyIn(newAddr, 16)));
  if (oldAddr !== 0) task.mm.copyOut(oldAddr, encodeRlimit(old));
  return 0;
}

/** getrlimit(2). */
function getrlimit(task: Task): number {
  const resource = task.intArg(0);
  if (resource < 0 || resource >= RLIMIT_COUNT) throw new SyscallError(Errno.EINVAL);
  task.mm.copyOut(task.numberArg(1), encodeRlimit(currentRlimit(task, resource)));
  return 0;
}

/** setrlimit(2). */
function setrlimit(task: Task): number {
  const resource = task.intArg(0);
  if (resource < 0 || resource >= RLIMIT_COUNT) throw new SyscallError(Errno.EINVAL);
  setRlimit(task, resource, decodeRlimit(task.mm.copyIn(task.numberArg(1), 16)));
  return 0;
}

/** umask(2). */
function umask(task: Task): number {
  const fs = task.threadGroup.fs;
  const old = fs.umask;
  fs.umask = task.intArg(0) & 0o777;
  return old;
}

/** Clock ticks since boot, at the USER_HZ of 100 that times(2) uses. */
function ticksSinceBoot(task: Task): bigint {
  return (process.hrtime.bigint() - task.kernel.bootTime) / 10_000_000n;
}

/** times(2). NOTE: per-process CPU times are not accounted yet and read as zero. */
function times(task: Task): bigint {
  const addr = task.numberArg(0);
  if (addr !== 0) task.mm.copyOut(addr, new Uint8Array(32));
  return ticksSinceBoot(task);
}

/** getrusage(2). NOTE: usage is not accounted yet; every field reads as zero. */
function getrusage(task: Task): number {
  const who = task.intArg(0);
  if (who !== 0 && who !== -1 && who !== 1) throw new SyscallError(Errno.EINVAL);
  task.mm.copyOut(task.numberArg(1), new Uint8Array(144));
  return 0;
}

/** getcpu(2): reports CPU 0, node 0. */
function getcpu(task: Task): number {
  for (const index of [0, 1]) {
    const addr = task.numberArg(index);
    if (addr !== 0) task.mm.copyOut(addr, new Uint8Array(4));
  }
  return 0;
}

/** prctl(2): the options programs commonly use at start-up. */
function prctl(task: Task): number {
  const option = task.intArg(0);
  switch (option) {
    case PR_SET_NAME: {
      const name = task.mm.readCString(task.numberArg(1), 16);
      task.name = name.slice(0, 15);
      return 0;
    }
    case PR_GET_NAME: {
      const bytes = new Uint8Array(16);
      bytes.set(new TextEncoder().encode(task.name).subarray(0, 15));
      task.mm.copyOut(task.numberArg(1), bytes);
      return 0;
    }
    case PR_SET_PDEATHSIG:
    case PR_SET_DUMPABLE:
    case PR_SET_NO_NEW_PRIVS:
      return 0;
    case PR_GET_DUMPABLE:
      return 1;
    case PR_GET_NO_NEW_PRIVS:
    case PR_GET_SECCOMP:
      return 0;
    case PR_GET_PDEATHSIG:
      task.mm.copyOut(task.numberArg(1), new Uint8Array(4));
      return 0;
    default:
      throw new SyscallError(Errno.EINVAL, `unsupported prctl option ${option}`);
  }
}

/** System information, limits and identity calls. */
export const infoSyscalls: SyscallGroup = {
  uname,
  sysinfo,
  getrandom,
  prlimit64,
  getrlimit,
  setrlimit,
  umask,
  times,
  getrusage,
  getcpu,
  prctl,
};
