import { Errno, errnoMessage, SyscallError, syscallName, UserRegsOffset } from "@sandbox/abi";
import type { MemoryFile, PageAllocator } from "@sandbox/mm";
import { type Platform, PlatformError } from "@sandbox/platform";
import { Credentials as VfsCredentials, FdTable, type FileDescription, NR_OPEN, PipeFileSystem, TmpFileSystem, type VirtualFileSystem } from "@sandbox/vfs";

const RLIMIT_NOFILE = 7;
import { buildSyscallTable } from "../syscalls";
import type { SyscallResult, SyscallTable } from "../syscalls/registry";
import { formatSyscall } from "../strace";
import { FutexTable } from "./futex";
import { releaseRobustFutexes } from "./robust-list";
import { type Terminal, waitWhileStopped } from "./job-control";
import { Logger } from "./log";
import { deliverFaultSignal, deliverPendingSignals, ERESTART_RESTARTBLOCK, ERESTARTSYS, killThreadGroup, pendingSignals, queueSignal } from "./signals";
import { becomeZombie } from "./process";
import { addressSpaceOf, execve, releaseMemoryManager, searchPath } from "./exec";
import { PageCache } from "./page-cache";
import { type Credentials, Task } from "./task";
import { type ExitStatus, type Rlimit, ThreadGroup } from "./thread-group";

/** Options of one sandbox kernel. */
export interface KernelOptions {
  readonly platform: Platform;
  readonly memoryFile: MemoryFile;
  readonly allocator: PageAllocator;
  /** Bytes of file pages the page cache keeps (DEFAULT_PAGE_CACHE_BYTES if absent). */
  readonly pageCacheBytes?: number;
  readonly vfs: VirtualFileSystem;
  readonly logger: Logger;
  /** The sandbox's own host name, returned by uname(2). */
  readonly hostname: string;
  /** Receives one strace-formatted line per system call when set. */
  readonly strace?: (line: string) => void;
  /** AT_HWCAP and AT_HWCAP2 to pass to programs (the host's values). */
  readonly hwcap?: bigint;
  readonly hwcap2?: bigint;
  /** CPUs the sandbox reports (sched_getaffinity, sysinfo); default 1. */
  readonly cpuCount?: number;
  /** Memory size the sandbox reports in sysinfo(2), in bytes; default 4 GiB. */
  readonly memoryLimit?: number;
  /** Called after every system call, with the task and the syscall number; for tracing and tests. */
  readonly onSyscallExit?: (task: Task, nr: number) => void;
}

/** The working directory of a new process does not exist in the sandbox or is not a directory. */
export class WorkingDirectoryError extends Error {
  constructor(
    readonly path: string,
    readonly errno: number,
  ) {
    super(`working directory ${path} is not usable in the sandbox: ${errnoMessage(errno)}`);
    this.name = "WorkingDirectoryError";
  }
}

/** The first process of a sandbox. */
export interface InitProcessSpec {
  /** Arguments; argv[0] is looked up on `searchPath` when it has no slash. Byte strings (latin1). */
  readonly argv: readonly string[];
  /** Environment, "NAME=value" byte strings. */
  readonly envp: readonly string[];
  /** Working directory, a path inside the sandbox. */
  readonly cwd: string;
  readonly credentials: Credentials;
  /** Resource limits by RLIMIT_* number. */
  readonly rlimits: ReadonlyMap<number, Rlimit>;
  /** Descriptions installed as descriptors 0, 1, 2, ...; the kernel takes one reference of each. */
  readonly stdio: readonly FileDescription[];
  /** Directories searched for argv[0], as PATH. */
  readonly searchPath: string;
  /** Whether stdin is a host terminal, which becomes the session's controlling terminal. */
  readonly stdinIsTerminal?: boolean;
}

/**
 * One sandbox's kernel: its processes, the syscall table and the run loop
 * of each task. A Kernel keeps no process-global state, so several may run
 * in one Node process.
 */
/** Largest transfer that the kernel's scratch buffer serves (see Kernel.scratch). */
const SCRATCH_LIMIT = 4 << 20;
export class Kernel {
  readonly syscalls: SyscallTable = buildSyscallTable();
  readonly threadGroups = new Map<number, ThreadGroup>();
  readonly tasks = new Map<number, Task>();
  /** The time the kernel booted, for uptime and CLOCK_BOOTTIME. */
  readonly bootTime = process.hrtime.bigint();
  /** The home of anonymous pipes. */
  readonly pipes: PipeFileSystem;
  /** The home of memfd_create's files, whose pages live in the memory file. */
  readonly memfds: TmpFileSystem;
  /** Futex wait queues of every process. */
  readonly futexes = new FutexTable();
  private nextPid = 1;
  /** The controlling terminal of the first session, when its stdin is a host terminal. */
  terminal: Terminal | undefined;
  /** The task whose system call the Sentry is serving, for /proc/self; set before each handler runs. */
  currentTask: Task | undefined;
  private readonly unsupportedLogged = new Set<number>();

  /** Pages of files whose content cannot change, shared by every mapping of them. */
  readonly pageCache: PageCache;
  private scratchBuffer = new Uint8Array(0);

  constructor(readonly options: KernelOptions) {
    this.pipes = new PipeFileSystem({ dev: options.vfs.allocateDevice() });
    this.memfds = new TmpFileSystem({ dev: options.vfs.allocateDevice(), sharedPages: options.allocator });
    this.pageCache = new PageCache(options.memoryFile, options.allocator, options.pageCacheBytes);
  }

  /**
   * Returns a buffer of `length` bytes for a transfer that fills it and
   * copies it out in one synchronous step: the next call may hand out the
   * same memory. Lengths up to SCRATCH_LIMIT share one buffer.
   */
  scratch(length: number): Uint8Array {
    if (length > SCRATCH_LIMIT) return new Uint8Array(length);
    if (this.scratchBuffer.length < length) this.scratchBuffer = new Uint8Array(Math.max(length, Math.min(SCRATCH_LIMIT, this.scratchBuffer.length * 2)));
    return this.scratchBuffer.subarray(0, length);
  }

  get logger(): Logger {
    return this.options.logger;
  }

  get platform(): Platform {
    return this.options.platform;
  }

  get cpuCount(): number {
    return this.options.cpuCount ?? 1;
  }

  get memoryLimit(): number {
    return this.options.memoryLimit ?? 4 * 1024 * 1024 * 1024;
  }

  /**
   * Starts the sandbox's init process and resolves with its exit status.
   * Fails with a SyscallError (ENOENT, EACCES, ENOEXEC, ...) when the program
   * cannot be executed, before anything ran.
   */
  async run(spec: InitProcessSpec): Promise<ExitStatus> {
    const vfs = this.options.vfs;
    const creds = spec.credentials;
    const fs = vfs.newContext(new VfsCredentials(creds.euid, creds.egid, creds.groups));
    try {
      fs.cwd = vfs.resolveDirectory(fs, undefined, spec.cwd);
    } catch (error) {
      if (error instanceof SyscallError) throw new WorkingDirectoryError(spec.cwd, error.errno);
      throw error;
    }
    const fdTable = new FdTable(Math.min(spec.rlimits.get(RLIMIT_NOFILE)?.soft ?? 1024, NR_OPEN));
    spec.stdio.forEach((file, fd) => {
      file.incRef();
      fdTable.installAt(fd, file);
    });

    const pid = this.allocatePid();
    if (spec.stdinIsTerminal === true) this.terminal = { sid: pid, foregroundPgrp: pid };
    const group = new ThreadGroup(pid, undefined, undefined, fdTable, fs, { ...creds, groups: [...creds.groups] }, new Map(spec.rlimits));
    this.threadGroups.set(pid, group);
    const task = this.newTask(group, pid);
    try {
      const path = searchPath(this, fs, spec.argv[0], spec.searchPath);
      execve(task, path, spec.argv, spec.envp);
    } catch (error) {
      this.retireTask(task);
      this.threadGroups.delete(pid);
      throw error;
    }
    this.startTask(task);
    return group.exited;
  }

  /** Implements readlink for the Sentry's synthetic links (/proc/self/exe) and the VFS. */
  readlink(task: Task, dir: FileDescription | undefined, path: string): string {
    return this.options.vfs.readlinkAt(task.threadGroup.fs, dir, path);
  }

  /** The most recently allocated process or thread id. */
  get lastPid(): number {
    return this.nextPid - 1;
  }

  /** Allocates a new process or thread id. */
  allocatePid(): number {
    return this.nextPid++;
  }

  /** Creates a task for `threadGroup` with a fresh platform context. */
  newTask(threadGroup: ThreadGroup, tid: number): Task {
    const task = new Task(this, tid, threadGroup, this.platform.newContext());
    threadGroup.tasks.add(task);
    this.tasks.set(tid, task);
    return task;
  }

  /** Starts `task`'s run loop; it ends when the task exits. */
  startTask(task: Task): void {
    this.runTask(task).catch((error: unknown) => {
      if (task.exiting) {
        // The platform context went away under a task that was already leaving (execve, exit_group).
        this.retireTask(task);
        return;
      }
      if (error instanceof PlatformError) {
        // The host side of the task went away (for example its stub was killed): the process dies as by SIGKILL.
        this.logger.warning(`platform failed under the task, killing its process: ${error.message}`, task.tid);
      } else {
        this.logger.error(`task failed in the Sentry: ${(error as Error).stack ?? error}`, task.tid);
      }
      killThreadGroup(task.threadGroup, { kind: "signaled", signal: 9, coreDumped: false });
      this.retireTask(task);
    });
  }

  private async runTask(task: Task): Promise<void> {
    const context = task.context;
    while (!task.exiting) {
      if (task.pendingRestart !== undefined || pendingSignals(task) !== 0n) deliverPendingSignals(task);
      if (task.threadGroup.stopped) {
        await waitWhileStopped(task);
        continue;
      }
      if (task.exiting) break;
      const trap = await context.switchTo(addressSpaceOf(task.mm));
      switch (trap.kind) {
        case "syscall": {
          const pending = this.dispatchSyscall(task);
          if (pending !== undefined) await pending;
          break;
        }
        case "fault":
          if (!task.mm.handleFault(trap.addr, trap.access).ok) deliverFaultSignal(task, trap.signo, trap.code, trap.addr);
          break;
        case "signal":
          deliverFaultSignal(task, trap.signo, trap.code, trap.addr);
          break;
        case "interrupt":
          break;
      }
    }
    this.retireTask(task);
  }

  /** Removes a task that left its run loop; the last one of a process ends the process. */
  retireTask(task: Task): void {
    const threadGroup = task.threadGroup;
    if (this.tasks.get(task.tid) !== task) return;
    releaseRobustFutexes(task);
    this.clearChildTid(task);
    this.tasks.delete(task.tid);
    threadGroup.tasks.delete(task);
    task.context.release();
    if (threadGroup.tasks.size === 0) {
      threadGroup.vforkDone?.();
      threadGroup.vforkDone = undefined;
      if (threadGroup.exitStatus === undefined) threadGroup.exitStatus = { kind: "exited", code: 0 };
      if (!this.isShared(threadGroup.fdTable, threadGroup, "fdTable")) threadGroup.fdTable.closeAll();
      const mm = threadGroup.mmOrUndefined;
      if (mm !== undefined && !this.isShared(mm, threadGroup, "mm")) releaseMemoryManager(mm);
      threadGroup.finish();
      becomeZombie(this, threadGroup);
      if (threadGroup.pid === 1) this.endAllProcesses();
    }
  }

  /** Reports whether another live process shares `resource` as its memory manager or descriptor table (CLONE_VM, CLONE_FILES). */
  isShared(resource: unknown, except: ThreadGroup, field: "mm" | "fdTable"): boolean {
    for (const group of this.threadGroups.values()) {
      if (group === except || group.zombie || group.tasks.size === 0) continue;
      if ((field === "mm" ? group.mmOrUndefined : group.fdTable) === resource) return true;
    }
    return false;
  }

  /** Kills every process, as Linux does when a pid namespace's init exits. */
  private endAllProcesses(): void {
    for (const group of this.threadGroups.values()) {
      if (!group.zombie && group.tasks.size > 0) killThreadGroup(group, { kind: "signaled", signal: 9, coreDumped: false });
    }
  }

  /** Clears and wakes the thread's clear_child_tid word, as Linux does when a thread exits. */
  private clearChildTid(task: Task): void {
    const addr = task.clearChildTid;
    const mm = task.threadGroup.mmOrUndefined;
    if (addr === 0 || mm === undefined || task.threadGroup.tasks.size <= 1) return;
    try {
      mm.copyOut(addr, new Uint8Array(4));
      this.futexes.wake(`${task.threadGroup.mmId}:${addr}`, 1);
    } catch {
      // An unmapped clear_child_tid word is ignored, as Linux ignores the fault.
    }
  }

  /** Serves the system call `task` trapped with; returns a promise only when the handler did not finish at once. */
  private dispatchSyscall(task: Task): Promise<void> | undefined {
    const regs = task.context.regs;
    const nr = regs.syscallNumber;
    const args = this.options.strace === undefined ? undefined : [0, 1, 2, 3, 4, 5].map((i) => regs.syscallArg(i));
    const handler = this.syscalls.get(nr);
    if (handler === undefined) {
      this.reportUnsupported(task, nr);
      this.finishSyscall(task, nr, args, -Errno.ENOSYS);
      return undefined;
    }
    let value: SyscallResult | Promise<SyscallResult>;
    try {
      // NOTE: a handler that awaits may let another task's call change currentTask; procfs paths are walked before the first await.
      this.currentTask = task;
      value = handler(task);
    } catch (error) {
      value = this.syscallErrorResult(task, nr, error);
    }
    if (!(value instanceof Promise)) {
      this.finishSyscall(task, nr, args, value);
      return undefined;
    }
    return value.then(
      (result) => this.finishSyscall(task, nr, args, result),
      (error: unknown) => this.finishSyscall(task, nr, args, this.syscallErrorResult(task, nr, error)),
    );
  }

  private finishSyscall(task: Task, nr: number, args: bigint[] | undefined, result: SyscallResult): void {
    if (typeof result === "number" && result <= -ERESTARTSYS && result >= -ERESTART_RESTARTBLOCK) task.pendingRestart = -result;
    if (result !== undefined) task.context.regs.setReturn(result);
    if (args !== undefined) this.traceSyscall(task, nr, args, result);
    this.options.onSyscallExit?.(task, nr);
  }

  private syscallErrorResult(task: Task, nr: number, error: unknown): number {
    if (error instanceof SyscallError) return -error.errno;
    this.logger.error(`kernel bug in syscall ${nr} at rip 0x${task.rip.toString(16)}: ${(error as Error)?.stack ?? error}`, task.tid);
    return -Errno.EFAULT;
  }

  private reportUnsupported(task: Task, nr: number): void {
    if (this.unsupportedLogged.has(nr)) return;
    this.unsupportedLogged.add(nr);
    this.logger.info(`unsupported syscall ${syscallLabel(nr)} returns ENOSYS`, task.tid);
  }

  private traceSyscall(task: Task, nr: number, args: bigint[], result: SyscallResult): void {
    const returned = result === undefined ? (task.exiting ? undefined : task.context.regs.get(UserRegsOffset.rax)) : BigInt(result);
    const memory = {
      read: (addr: number, length: number) => {
        try {
          return task.threadGroup.mm.copyIn(addr, length);
        } catch {
          return undefined;
        }
      },
    };
    const line = formatSyscall(nr, args, task.exiting ? undefined : returned, memory);
    this.options.strace?.(`[pid ${task.tid}] ${line}`);
  }

  /**
   * Sends `signo` from outside the sandbox, as a terminal or a process
   * manager does: to the terminal's foreground process group when there is
   * a controlling terminal, otherwise to the first process.
   */
  signalFromHost(signo: number): void {
    const pgid = this.terminal?.foregroundPgrp;
    const info = { signo, code: 0x80 /* SI_KERNEL */, pid: 0, uid: 0, status: 0, addr: 0, value: 0n };
    if (pgid === undefined) {
      const init = this.threadGroups.get(1);
      if (init !== undefined) queueSignal(init, undefined, info);
      return;
    }
    for (const group of [...this.threadGroups.values()]) {
      if (group.pgid === pgid && !group.zombie) queueSignal(group, undefined, info);
    }
  }

  /** Frees every process, task and host resource of this kernel. */
  shutdown(): void {
    for (const task of this.tasks.values()) {
      task.exiting = true;
      task.interrupt();
    }
  }
}

function syscallLabel(nr: number): string {
  return `${syscallName(nr) ?? "unknown"} (${nr})`;
}

export type { ExitStatus };
