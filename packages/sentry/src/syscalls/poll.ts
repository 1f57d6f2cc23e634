import { Errno, SyscallError } from "@sandbox/abi";
import type { FileDescription } from "@sandbox/vfs";
import { ERESTARTNOHAND } from "../kernel/signals";
import type { Task } from "../kernel/task";
import type { SyscallGroup } from "./registry";
import { readTimespec } from "./time";

const POLLIN = 0x1;
const POLLPRI = 0x2;
const POLLOUT = 0x4;
const POLLERR = 0x8;
const POLLHUP = 0x10;
const POLLNVAL = 0x20;
const POLLRDNORM = 0x40;
const POLLWRNORM = 0x100;
const SIGSET_SIZE = 8;
const FD_SETSIZE_BITS = 1024;
const SELECT_READ = POLLIN | POLLRDNORM | POLLHUP | POLLERR;
const SELECT_WRITE = POLLOUT | POLLWRNORM | POLLERR;
const SELECT_EXCEPT = POLLPRI;

/** One descriptor a poll waits on. */
interface PollEntry {
  readonly fd: number;
  readonly events: number;
  revents: number;
}

function readinessOf(file: FileDescription, events: number): number {
  const impl = file.impl;
  const interest = events | POLLERR | POLLHUP;
  if (impl.readiness === undefined) return interest & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM);
  return impl.readiness(events) & interest;
}

/** Fills revents for every entry and returns how many are ready. */
function scan(task: Task, entries: PollEntry[]): number {
  let ready = 0;
  for (const entry of entries) {
    if (entry.fd < 0) {
      entry.revents = 0;
      continue;
    }
    const file = task.fdTable.lookup(entry.fd);
    entry.revents = file === undefined ? POLLNVAL : readinessOf(file, entry.events);
    if (entry.revents !== 0) ready++;
  }
  return ready;
}

/**
 * Waits until one of `entries` is ready, the timeout passes (undefined:
 * forever) or a signal arrives. Returns the ready count, 0 on timeout, or
 * -ERESTARTNOHAND when interrupted.
 */
export async function pollEntries(task: Task, entries: PollEntry[], timeoutMs: number | undefined): Promise<number> {
  const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
  for (;;) {
    const unwatchers: Array<() => void> = [];
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    for (const entry of entries) {
      const file = entry.fd < 0 ? undefined : task.fdTable.lookup(entry.fd);
      const unwatch = file?.impl.watch?.(entry.events | POLLERR | POLLHUP, () => wake());
      if (unwatch !== undefined) unwatchers.push(unwatch);
    }
    try {
      const ready = scan(task, entries);
      if (ready > 0) return ready;
      const remaining = deadline === undefined ? undefined : deadline - Date.now();
      if (remaining !== undefined && remaining <= 0) return 0;
      const signal = task.interruptSignal;
      if (signal.aborted) return -ERESTARTNOHAND;
      let timer: NodeJS.Timeout | undefined;
      const interrupted = await new Promise<boolean>((resolve) => {
        const onAbort = () => resolve(true);
        signal.addEventListener("abort", onAbort, { once: true });
        if (remaining !== undefined) timer = setTimeout(() => resolve(false), remaining);
        woken.then(() => {
          signal.removeEventListener("abort", onAbort);
          resolve(false);
        });
      });
      if (timer !== undefined) clearTimeout(timer);
      if (interrupted) return -ERESTARTNOHAND;
    } finally {
      for (const unwatch of unwatchers) unwatch();
    }
  }
}

function readPollfds(task: Task, addr: number, count: number): PollEntry[] {
  if (count > 1024 * 1024 || count < 0) throw new SyscallError(Errno.EINVAL);
  if (count === 0) return [];
  const view = new DataView(task.mm.copyIn(addr, count * 8).buffer);
  const entries: PollEntry[] = [];
  for (let i = 0; i < count; i++) entries.push({ fd: view.getInt32(i * 8, true), events: view.getInt16(i * 8 + 4, true) & 0xffff, revents: 0 });
  return entries;
}

function writePollfds(task: Task, addr: number, entries: PollEntry[]): void {
  if (entries.length === 0) return;
  const bytes = task.mm.copyIn(addr, entries.length * 8);
  const view = new DataView(bytes.buffer);
  entries.forEach((entry, i) => view.setInt16(i * 8 + 6, entry.revents, true));
  task.mm.copyOut(addr, bytes);
}

/** Installs the temporary signal mask of ppoll/pselect6; it is restored after a handler runs or on return. */
function applyTemporaryMask(task: Task, addr: number): boolean {
  if (addr === 0) return false;
  const mask = new DataView(task.mm.copyIn(addr, SIGSET_SIZE).buffer).getBigUint64(0, true) & ~((1n << 8n) | (1n << 18n));
  task.savedSignalMask = task.signalMask;
  task.signalMask = mask;
  return true;
}

function restoreTemporaryMask(task: Task, result: number): void {
  if (result !== -ERESTARTNOHAND && task.savedSignalMask !== undefined) {
    task.signalMask = task.savedSignalMask;
    task.savedSignalMask = undefined;
  }
}

/** poll(2). */
async function poll(task: Task): Promise<number> {
  const entries = readPollfds(task, task.numberArg(0), task.numberArg(1));
  const timeout = task.intArg(2);
  const result = await pollEntries(task, entries, timeout < 0 ? undefined : timeout);
  if (result >= 0) writePollfds(task, task.numberArg(0), entries);
  return result;
}

/** ppoll(2). */
async function ppoll(task: Task): Promise<number> {
  const entries = readPollfds(task, task.numberArg(0), task.numberArg(1));
  const timeoutAddr = task.numberArg(2);
  const timeout = timeoutAddr === 0 ? undefined : Number(readTimespec(task, timeoutAddr) / 1_000_000n);
  if (task.numberArg(3) !== 0 && task.numberArg(4) !== SIGSET_SIZE) throw new SyscallError(Errno.EINVAL);
  applyTemporaryMask(task, task.numberArg(3));
  const result = await pollEntries(task, entries, timeout);
  restoreTemporaryMask(task, result);
  if (result >= 0) writePollfds(task, task.numberArg(0), entries);
  return result;
}

function readFdSet(task: Task, addr: number, nfds: number): Uint8Array | undefined {
  if (addr === 0) return undefined;
  return task.mm.copyIn(addr, Math.ceil(nfds / 64) * 8);
}

/** Shared body of select(2) and pselect6(2). */
async function selectFds(task: Task, timeoutMs: number | undefined): Promise<number> {
  const nfds = task.intArg(0);
  if (nfds < 0 || nfds > FD_SETSIZE_BITS * 1024) throw new SyscallError(Errno.EINVAL);
  const sets = [1, 2, 3].map((index) => readFdSet(task, task.numberArg(index), nfds));
  const masks = [SELECT_READ, SELECT_WRITE, SELECT_EXCEPT];
  const entries: Array<PollEntry & { set: number }> = [];
  for (let fd = 0; fd < nfds; fd++) {
    let events = 0;
    sets.forEach((set, index) => {
      if (set !== undefined && (set[fd >> 3] & (1 << (fd & 7))) !== 0) events |= masks[index] & (POLLIN | POLLOUT | POLLPRI);
    });
    if (events === 0) continue;
    if (task.fdTable.lookup(fd) === undefined) throw new SyscallError(Errno.EBADF);
    entries.push({ fd, events, revents: 0, set: 0 });
  }
  const result = await pollEntries(task, entries, timeoutMs);
  if (result < 0) return result;
  let count = 0;
  const outputs = sets.map((set) => (set === undefined ? undefined : new Uint8Array(set.length)));
  for (const entry of entries) {
    outputs.forEach((output, index) => {
      if (output === undefined || (entry.revents & masks[index]) === 0) return;
      if (index < 2 && (entry.events & masks[index]) === 0) return;
      output[entry.fd >> 3] |= 1 << (entry.fd & 7);
      count++;
    });
  }
  outputs.forEach((output, index) => {
    if (output !== undefined) task.mm.copyOut(task.numberArg(index + 1), output);
  });
  return count;
}

/** select(2): the timeout is a struct timeval. */
async function select(task: Task): Promise<number> {
  const timeoutAddr = task.numberArg(4);
  let timeout: number | undefined;
  if (timeoutAddr !== 0) {
    const view = new DataView(task.mm.copyIn(timeoutAddr, 16).buffer);
    const seconds = Number(view.getBigInt64(0, true));
    const micros = Number(view.getBigInt64(8, true));
    if (seconds < 0 || micros < 0 || micros >= 1_000_000) throw new SyscallError(Errno.EINVAL);
    timeout = seconds * 1000 + Math.floor(micros / 1000);
  }
  return selectFds(task, timeout);
}

/** pselect6(2): a struct timespec and a { sigset pointer, size } pair. */
async function pselect6(task: Task): Promise<number> {
  const timeoutAddr = task.numberArg(4);
  const timeout = timeoutAddr === 0 ? undefined : Number(readTimespec(task, timeoutAddr) / 1_000_000n);
  const sigAddr = task.numberArg(5);
  if (sigAddr !== 0) {
    const view = new DataView(task.mm.copyIn(sigAddr, 16).buffer);
    const maskAddr = Number(view.getBigUint64(0, true));
    if (maskAddr !== 0 && Number(view.getBigUint64(8, true)) !== SIGSET_SIZE) throw new SyscallError(Errno.EINVAL);
    applyTemporaryMask(task, maskAddr);
  }
  const result = await selectFds(task, timeout);
  restoreTemporaryMask(task, result);
  return result;
}

/** The descriptor readiness calls. */
export const pollSyscalls: SyscallGroup = { poll, ppoll, select, pselect6 };
