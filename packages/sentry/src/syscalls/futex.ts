import { Errno, SyscallError } from "@sandbox/abi";
import { FUTEX_BITSET_MATCH_ANY } from "../kernel/futex";
import type { Task } from "../kernel/task";
import { clockNow, readTimespec } from "./time";
import type { SyscallGroup } from "./registry";

const FUTEX_WAIT = 0;
const FUTEX_WAKE = 1;
const FUTEX_REQUEUE = 3;
const FUTEX_CMP_REQUEUE = 4;
const FUTEX_WAKE_OP = 5;
const FUTEX_WAIT_BITSET = 9;
const FUTEX_WAKE_BITSET = 10;
const FUTEX_PRIVATE_FLAG = 128;
const FUTEX_CLOCK_REALTIME = 256;
const FUTEX_CMD_MASK = ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
const CLOCK_REALTIME = 0;
const CLOCK_MONOTONIC = 1;
const INT_MAX = 0x7fff_ffff;

/**
 * Returns the key of the futex word at `addr`: the memory manager and
 * address for a private futex, the memory-file offset for a word in shared
 * memory (so processes sharing the pages meet on it).
 */
export function futexKey(task: Task, addr: number, isPrivate: boolean): string {
  if (addr % 4 !== 0) throw new SyscallError(Errno.EINVAL, "futex address not 4-byte aligned");
  if (!isPrivate) {
    const offset = task.mm.sharedOffsetOf(addr);
    if (offset !== undefined) return `shared:${offset}`;
  }
  return `${task.threadGroup.mmId}:${addr}`;
}

function readWord(task: Task, addr: number): number {
  return new DataView(task.mm.copyIn(addr, 4).buffer).getUint32(0, true);
}

function writeWord(task: Task, addr: number, value: number): void {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value >>> 0, true);
  task.mm.copyOut(addr, bytes);
}

/** Applies a FUTEX_WAKE_OP operation to the old value and returns the new one. */
function wakeOpValue(encoded: number, old: number): { value: number; condition: boolean } {
  const op = (encoded >>> 28) & 0xf;
  const cmp = (encoded >>> 24) & 0xf;
  let oparg = (encoded << 8) >> 20;
  const cmparg = (encoded << 20) >> 20;
  if (op & 8) oparg = 1 << (oparg & 31);
  let value: number;
  switch (op & 7) {
    case 0: value = oparg; break; // FUTEX_OP_SET
    case 1: value = old + oparg; break; // FUTEX_OP_ADD
    case 2: value = old | oparg; break; // FUTEX_OP_OR
    case 3: value = old & ~oparg; break; // FUTEX_OP_ANDN
    case 4: value = old ^ oparg; break; // FUTEX_OP_XOR
    default: throw new SyscallError(Errno.ENOSYS);
  }
  const signedOld = old | 0;
  const conditions = [signedOld === cmparg, signedOld !== cmparg, signedOld < cmparg, signedOld <= cmparg, signedOld > cmparg, signedOld >= cmparg];
  if (cmp >= conditions.length) throw new SyscallError(Errno.ENOSYS);
  return { value: value >>> 0, condition: conditions[cmp] };
}

/** Converts futex(2)'s timeout argument to milliseconds from now; undefined waits forever. */
function timeoutMillis(task: Task, addr: number, absolute: boolean, realtime: boolean): number | undefined {
  if (addr === 0) return undefined;
  const nanos = readTimespec(task, addr);
  if (!absolute) return Number(nanos / 1_000_000n);
  const now = clockNow(task, realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC);
  return Number((nanos - now) / 1_000_000n);
}

/** futex(2): WAIT, WAKE, REQUEUE, CMP_REQUEUE, WAKE_OP and the BITSET forms. Priority-inheritance operations return ENOSYS. */
async function futex(task: Task): Promise<number> {
  const addr = task.numberArg(0);
  const op = task.intArg(1);
  const value = task.intArg(2) >>> 0;
  const command = op & FUTEX_CMD_MASK;
  const realtime = (op & FUTEX_CLOCK_REALTIME) !== 0;
  const isPrivate = (op & FUTEX_PRIVATE_FLAG) !== 0;
  const keyOf = (at: number) => futexKey(task, at, isPrivate);
  const futexes = task.kernel.futexes;

  switch (command) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
      const bitset = command === FUTEX_WAIT ? FUTEX_BITSET_MATCH_ANY : task.intArg(5) >>> 0;
      if (realtime && command === FUTEX_WAIT) throw new SyscallError(Errno.ENOSYS);
      const key = keyOf(addr);
      const timeout = timeoutMillis(task, task.numberArg(3), command === FUTEX_WAIT_BITSET, realtime);
      if (readWord(task, addr) !== value) throw new SyscallError(Errno.EAGAIN);
      if (timeout !== undefined && timeout <= 0) throw new SyscallError(Errno.ETIMEDOUT);
      return futexes.wait(key, bitset, timeout, task.interruptSignal);
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
      const bitset = command === FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY : task.intArg(5) >>> 0;
      if (bitset === 0) throw new SyscallError(Errno.EINVAL);
      return futexes.wake(keyOf(addr), Math.min(value, INT_MAX), bitset);
    }
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE: {
      const requeueCount = Number(task.arg(3) & 0x7fff_ffffn);
      const to = keyOf(task.numberArg(4));
      const from = keyOf(addr);
      if (command === FUTEX_CMP_REQUEUE && readWord(task, addr) !== task.intArg(5) >>> 0) throw new SyscallError(Errno.EAGAIN);
      return futexes.requeue(from, to, Math.min(value, INT_MAX), requeueCount);
    }
    case FUTEX_WAKE_OP: {
      const addr2 = task.numberArg(4);
      const key1 = keyOf(addr);
      const key2 = keyOf(addr2);
      const old = readWord(task, addr2);
      const { value: updated, condition } = wakeOpValue(task.intArg(5), old);
      writeWord(task, addr2, updated);
      let woken = futexes.wake(key1, Math.min(value, INT_MAX));
      if (condition) woken += futexes.wake(key2, Number(task.arg(3) & 0x7fff_ffffn));
      return woken;
    }
    default:
      throw new SyscallError(Errno.ENOSYS, `futex operation ${command}`);
  }
}

/** The futex system call. */
export const futexSyscalls: SyscallGroup = { futex };
