import type { MemoryManager } from "@sandbox/mm";
import type { FdTable, FsContext } from "@sandbox/vfs";
import type { Credentials, Task } from "./task";

/** The end of a process, as wait(2) encodes it. */
export type ExitStatus =
  | { readonly kind: "exited"; readonly code: number }
  | { readonly kind: "signaled"; readonly signal: number; readonly coreDumped: boolean };

/** Returns the wait(2) status word of `status`. */
export function waitStatusWord(status: ExitStatus): number {
  if (status.kind === "exited") return (status.code & 0xff) << 8;
  return (status.signal & 0x7f) | (status.coreDumped ? 0x80 : 0);
}

const memoryManagerIds = new WeakMap<MemoryManager, number>();
let lastMemoryManagerId = 0;

/** Returns a number unique to `mm` within this Node process. */
function memoryManagerId(mm: MemoryManager): number {
  let id = memoryManagerIds.get(mm);
  if (id === undefined) {
    id = ++lastMemoryManagerId;
    memoryManagerIds.set(mm, id);
  }
  return id;
}

/** The siginfo fields of a signal. */
export interface SignalInfo {
  signo: number;
  code: number;
  /** Sender pid and uid (kill, SIGCHLD), or 0. */
  pid: number;
  uid: number;
  /** SIGCHLD: the child's exit code or signal; SIGSEGV and friends: unused. */
  status: number;
  /** Fault address for SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGTRAP. */
  addr: number;
  /** The value of sigqueue and timers. */
  value: bigint;
}

/** A resource limit pair, in the units of the resource. `Infinity` is RLIM_INFINITY. */
export interface Rlimit {
  soft: number;
  hard: number;
}

/** A kernel sigaction: handler address (0 = SIG_DFL, 1 = SIG_IGN), flags, restorer and mask. */
export interface SignalAction {
  handler: bigint;
  flags: bigint;
  restorer: bigint;
  mask: bigint;
}

/**
 * A process: the tasks sharing one pid, memory map, descriptor table,
 * credentials, limits and signal actions.
 */
export class ThreadGroup {
  readonly tasks = new Set<Task>();
  readonly children = new Set<ThreadGroup>();
  /** Signal actions by signal number (1-64). */
  signalActions: SignalAction[] = Array.from({ length: 65 }, () => ({ handler: 0n, flags: 0n, restorer: 0n, mask: 0n }));
  /** Signal sent to the parent when this process exits (SIGCHLD unless clone requested another). */
  exitSignal = 17;
  /** Resolved when a vfork child execs or exits, releasing its parent. */
  vforkDone: (() => void) | undefined;
  /** True while the process is stopped by a stop signal (job control). */
  stopped = false;
  /** The signal that stopped the process. */
  stopSignal = 0;
  /** Whether wait with WUNTRACED has reported the current stop. */
  stopReported = true;
  /** Whether wait with WCONTINUED has reported the last continue. */
  continuedReported = true;
  /** Called when the process continues, waking its stopped tasks. */
  readonly resumeWaiters = new Set<() => void>();
  /** True once every task has exited and the process waits to be reaped by its parent. */
  zombie = false;
  /** Called when a child changes state, so that waiting parents look again. */
  readonly childWaiters = new Set<() => void>();
  /** Signals sent to the process as a whole and not yet delivered, one bit per signal. */
  sharedPending = 0n;
  /** siginfo of pending signals by number, for delivery. */
  readonly sharedPendingInfo = new Map<number, SignalInfo>();
  exitStatus: ExitStatus | undefined;
  /** Path of the running executable, for /proc/self/exe. */
  executablePath = "";
  /** The argument vector of the last execve, for /proc/self/cmdline. */
  argv: readonly string[] = [];
  /** The environment of the last execve, for /proc/self/environ. */
  envp: readonly string[] = [];
  /** Process group and session ids. */
  pgid: number;
  sid: number;
  /** Resolved once the thread group has exited and all its tasks are gone. */
  readonly exited: Promise<ExitStatus>;
  private resolveExited!: (status: ExitStatus) => void;

  constructor(
    readonly pid: number,
    public parent: ThreadGroup | undefined,
    /** The address space; undefined only while the first program of the sandbox is being loaded. */
    public mmOrUndefined: MemoryManager | undefined,
    public fdTable: FdTable,
    public fs: FsContext,
    public credentials: Credentials,
    public rlimits: Map<number, Rlimit>,
  ) {
    this.pgid = parent?.pgid ?? pid;
    this.sid = parent?.sid ?? pid;
    this.exited = new Promise((resolve) => (this.resolveExited = resolve));
  }

  /** A number that identifies the current memory manager, for futex keys. */
  get mmId(): number {
    return memoryManagerId(this.mm);
  }

  /** The process's memory manager. */
  get mm(): MemoryManager {
    if (this.mmOrUndefined === undefined) throw new Error(`process ${this.pid} has no address space yet`);
    return this.mmOrUndefined;
  }

  set mm(mm: MemoryManager) {
    this.mmOrUndefined = mm;
  }

  /** Records the exit status (the first one wins) and marks every task to leave its loop. */
  exit(status: ExitStatus): void {
    if (this.exitStatus === undefined) this.exitStatus = status;
    for (const task of this.tasks) {
      task.exiting = true;
      task.interrupt();
    }
  }

  /** Called by the kernel when the last task has left its run loop. */
  finish(): void {
    this.resolveExited(this.exitStatus ?? { kind: "exited", code: 0 });
  }

  /** Wakes every parent task waiting in wait4 or waitid for a child of this process. */
  notifyChildWaiters(): void {
    for (const waiter of [...this.childWaiters]) waiter();
  }
}
