import { Registers, UserRegsOffset } from "@sandbox/abi";
import type { Context } from "@sandbox/platform";
import type { Kernel } from "./kernel";
import type { SignalInfo, ThreadGroup } from "./thread-group";

/** User and group identity of a task, as in Linux's struct cred. */
export interface Credentials {
  uid: number;
  euid: number;
  suid: number;
  gid: number;
  egid: number;
  sgid: number;
  groups: number[];
}

/**
 * One application thread: its platform context (registers), the thread
 * group (process) it belongs to, and per-thread kernel state. The task runs
 * as an async loop in the Sentry's event loop (see Kernel.runTask).
 */
export class Task {
  /** Address the kernel clears and futex-wakes at thread exit (set_tid_address). */
  clearChildTid = 0;
  /** Head of the robust futex list (set_robust_list). */
  robustList = 0;
  robustListLength = 0;
  /** Blocked signals, one bit per signal (bit n-1 for signal n). */
  signalMask = 0n;
  /** Set when the task must leave its run loop, e.g. after exit_group. */
  exiting = false;
  /** The command name (comm), at most 15 bytes; set by execve and PR_SET_NAME. */
  name = "";
  /** Signals sent to this thread and not yet delivered, one bit per signal. */
  pending = 0n;
  /** siginfo of this thread's pending signals. */
  readonly pendingInfo = new Map<number, SignalInfo>();
  /** The ERESTART* code of an interrupted system call, until signal delivery decides to restart it or fail it with EINTR. */
  pendingRestart: number | undefined;
  /** The signal mask to restore after the next handler, set by sigsuspend-like calls. */
  savedSignalMask: bigint | undefined;
  /** Signals rt_sigtimedwait waits for; a signal in this set wakes the task even while blocked. */
  waitedSignals = 0n;
  /** The alternate signal stack (sigaltstack); flags SS_DISABLE (2) when none is set. */
  altStack = { sp: 0, flags: 2, size: 0 };

  private interruption = new AbortController();

  constructor(
    readonly kernel: Kernel,
    /** The thread id; execve from a non-leader thread changes it to the process id. */
    public tid: number,
    readonly threadGroup: ThreadGroup,
    readonly context: Context,
  ) {}

  /**
   * Aborted when the task must stop waiting: a signal arrived or the process
   * is exiting. Already aborted when a signal the task does not block is
   * pending, so a wait that starts after the signal came never blocks.
   */
  get interruptSignal(): AbortSignal {
    const deliverable = (this.pending | this.threadGroup.sharedPending) & ~this.signalMask;
    if (this.exiting || deliverable !== 0n) return AbortSignal.abort();
    return this.interruption.signal;
  }

  /** Wakes the task from any interruptible wait and from the application. */
  interrupt(): void {
    this.interruption.abort();
    this.interruption = new AbortController();
    this.context.interrupt();
  }

  get regs(): Registers {
    return this.context.regs;
  }

  /** System call argument `index` as an unsigned 64-bit value. */
  arg(index: number): bigint {
    return this.context.regs.syscallArg(index);
  }

  /** System call argument `index` as a signed 32-bit int (C `int`). */
  intArg(index: number): number {
    return Number(BigInt.asIntN(32, this.arg(index)));
  }

  /** System call argument `index` as a user address or size; values above 2^53 become Infinity-like large numbers. */
  numberArg(index: number): number {
    return Number(this.arg(index));
  }

  get mm() {
    return this.threadGroup.mm;
  }

  get fdTable() {
    return this.threadGroup.fdTable;
  }

  get credentials(): Credentials {
    return this.threadGroup.credentials;
  }

  /** The instruction pointer, for log lines. */
  get rip(): number {
    return this.context.regs.getNumber(UserRegsOffset.rip);
  }
}
