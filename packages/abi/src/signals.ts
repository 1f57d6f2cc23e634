import { formatFlags, tableOf } from "./flags/format";

/**
 * Signal numbers of x86-64 (arch/x86/include/uapi/asm/signal.h). The kernel
 * numbers real-time signals from SIGRTMIN = 32 to SIGRTMAX = 64; glibc keeps
 * 32 and 33 for its threads and so reports SIGRTMIN as 34 to programs
 * (see {@link GLIBC_SIGRTMIN}).
 */
export const Signal = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGIOT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPOLL: 29,
  SIGPWR: 30,
  SIGSYS: 31,
  SIGRTMIN: 32,
  SIGRTMAX: 64,
} as const;

/** The first real-time signal glibc hands to programs; it keeps 32 and 33 for NPTL. */
export const GLIBC_SIGRTMIN = 34;

/** The number of signals (`_NSIG`); valid signal numbers are 1 to NSIG. */
export const NSIG = 64;

/** The kernel's action for a signal whose disposition is SIG_DFL (signal(7)). */
export enum SignalDefaultAction {
  /** Terminate the process. */
  Terminate = "terminate",
  /** Terminate the process and dump core. */
  Core = "core",
  /** Stop the process. */
  Stop = "stop",
  /** Continue the process if it is stopped. */
  Continue = "continue",
  /** Ignore the signal. */
  Ignore = "ignore",
}

const CORE_SIGNALS: ReadonlySet<number> = new Set([
  Signal.SIGQUIT, Signal.SIGILL, Signal.SIGTRAP, Signal.SIGABRT, Signal.SIGBUS, Signal.SIGFPE,
  Signal.SIGSEGV, Signal.SIGXCPU, Signal.SIGXFSZ, Signal.SIGSYS,
]);
const STOP_SIGNALS: ReadonlySet<number> = new Set([Signal.SIGSTOP, Signal.SIGTSTP, Signal.SIGTTIN, Signal.SIGTTOU]);
const IGNORE_SIGNALS: ReadonlySet<number> = new Set([Signal.SIGCHLD, Signal.SIGURG, Signal.SIGWINCH]);

/** Returns the default action of a valid signal number (1 to 64); throws RangeError for any other. */
export function signalDefaultAction(signal: number): SignalDefaultAction {
  checkSignal(signal);
  if (CORE_SIGNALS.has(signal)) {
    return SignalDefaultAction.Core;
  }
  if (STOP_SIGNALS.has(signal)) {
    return SignalDefaultAction.Stop;
  }
  if (IGNORE_SIGNALS.has(signal)) {
    return SignalDefaultAction.Ignore;
  }
  if (signal === Signal.SIGCONT) {
    return SignalDefaultAction.Continue;
  }
  return SignalDefaultAction.Terminate;
}

/** Aliases that share a number with the name strace prints. */
const SIGNAL_ALIASES: ReadonlySet<string> = new Set(["SIGIOT", "SIGPOLL", "SIGRTMAX"]);

const SIGNAL_NAMES: readonly string[] = (() => {
  const names: string[] = new Array(NSIG + 1).fill("");
  for (const [name, value] of Object.entries(Signal)) {
    if (!SIGNAL_ALIASES.has(name) && value < Signal.SIGRTMIN) {
      names[value] = name;
    }
  }
  names[Signal.SIGRTMIN] = "SIGRTMIN";
  for (let signal = Signal.SIGRTMIN + 1; signal <= NSIG; signal++) {
    names[signal] = `SIGRT_${signal - Signal.SIGRTMIN}`;
  }
  return names;
})();

/**
 * Returns the name strace prints for a signal: "SIGSEGV", "SIGRTMIN" for 32
 * and "SIGRT_n" for 32 + n; undefined outside 1 to 64.
 */
export function signalName(signal: number): string | undefined {
  return isValidSignal(signal) ? SIGNAL_NAMES[signal] : undefined;
}

/** Returns whether `signal` is a signal number from 1 to 64. */
export function isValidSignal(signal: number): boolean {
  return Number.isInteger(signal) && signal >= 1 && signal <= NSIG;
}

function checkSignal(signal: number): void {
  if (!isValidSignal(signal)) {
    throw new RangeError(`invalid signal number ${signal}: expected 1 to ${NSIG}`);
  }
}

/** si_code values common to all signals (include/uapi/asm-generic/siginfo.h). */
export const SiCode = {
  SI_USER: 0,
  SI_KERNEL: 0x80,
  SI_QUEUE: -1,
  SI_TIMER: -2,
  SI_MESGQ: -3,
  SI_ASYNCIO: -4,
  SI_SIGIO: -5,
  SI_TKILL: -6,
  SI_DETHREAD: -7,
  SI_ASYNCNL: -60,
} as const;

/** si_code values of SIGILL. */
export const IllCode = {
  ILL_ILLOPC: 1,
  ILL_ILLOPN: 2,
  ILL_ILLADR: 3,
  ILL_ILLTRP: 4,
  ILL_PRVOPC: 5,
  ILL_PRVREG: 6,
  ILL_COPROC: 7,
  ILL_BADSTK: 8,
  ILL_BADIADDR: 9,
} as const;

/** si_code values of SIGFPE. */
export const FpeCode = {
  FPE_INTDIV: 1,
  FPE_INTOVF: 2,
  FPE_FLTDIV: 3,
  FPE_FLTOVF: 4,
  FPE_FLTUND: 5,
  FPE_FLTRES: 6,
  FPE_FLTINV: 7,
  FPE_FLTSUB: 8,
  FPE_FLTUNK: 14,
  FPE_CONDTRAP: 15,
} as const;

/** si_code values of SIGSEGV. */
export const SegvCode = {
  SEGV_MAPERR: 1,
  SEGV_ACCERR: 2,
  SEGV_BNDERR: 3,
  SEGV_PKUERR: 4,
  SEGV_ACCADI: 5,
  SEGV_ADIDERR: 6,
  SEGV_ADIPERR: 7,
  SEGV_MTEAERR: 8,
  SEGV_MTESERR: 9,
  SEGV_CPERR: 10,
} as const;

/** si_code values of SIGBUS. */
export const BusCode = {
  BUS_ADRALN: 1,
  BUS_ADRERR: 2,
  BUS_OBJERR: 3,
  BUS_MCEERR_AR: 4,
  BUS_MCEERR_AO: 5,
} as const;

/** si_code values of SIGTRAP. */
export const TrapCode = {
  TRAP_BRKPT: 1,
  TRAP_TRACE: 2,
  TRAP_BRANCH: 3,
  TRAP_HWBKPT: 4,
  TRAP_UNK: 5,
  TRAP_PERF: 6,
} as const;

/** si_code values of SIGCHLD. */
export const CldCode = {
  CLD_EXITED: 1,
  CLD_KILLED: 2,
  CLD_DUMPED: 3,
  CLD_TRAPPED: 4,
  CLD_STOPPED: 5,
  CLD_CONTINUED: 6,
} as const;

/** si_code values of SIGPOLL (SIGIO). */
export const PollCode = {
  POLL_IN: 1,
  POLL_OUT: 2,
  POLL_MSG: 3,
  POLL_ERR: 4,
  POLL_PRI: 5,
  POLL_HUP: 6,
} as const;

/** si_code values of SIGSYS. */
export const SysCode = {
  SYS_SECCOMP: 1,
  SYS_USER_DISPATCH: 2,
} as const;

/** sigaction(2) `sa_flags` bits of x86-64 (asm/signal.h and asm-generic/signal-defs.h). */
export const SaFlags = {
  SA_NOCLDSTOP: 0x00000001,
  SA_NOCLDWAIT: 0x00000002,
  SA_SIGINFO: 0x00000004,
  SA_UNSUPPORTED: 0x00000400,
  SA_EXPOSE_TAGBITS: 0x00000800,
  SA_RESTORER: 0x04000000,
  SA_ONSTACK: 0x08000000,
  SA_RESTART: 0x10000000,
  SA_NODEFER: 0x40000000,
  SA_RESETHAND: 0x80000000,
} as const;

/** The `how` argument of rt_sigprocmask(2). */
export const SigprocmaskHow = {
  SIG_BLOCK: 0,
  SIG_UNBLOCK: 1,
  SIG_SETMASK: 2,
} as const;

/** Special handler values of `sa_handler`. */
export const SigHandler = {
  SIG_DFL: 0,
  SIG_IGN: 1,
} as const;

/** sigaltstack(2) `ss_flags` values and sizes (asm/signal.h, asm/sigcontext.h). */
export const SigaltstackFlags = {
  SS_ONSTACK: 1,
  SS_DISABLE: 2,
  SS_AUTODISARM: 0x80000000,
  MINSIGSTKSZ: 2048,
  SIGSTKSZ: 8192,
} as const;

const SA_FLAG_TABLE = tableOf(SaFlags, [
  "SA_NOCLDSTOP", "SA_NOCLDWAIT", "SA_SIGINFO", "SA_UNSUPPORTED", "SA_EXPOSE_TAGBITS", "SA_RESTORER", "SA_ONSTACK",
  "SA_RESTART", "SA_NODEFER", "SA_RESETHAND",
]);

/** Formats `sa_flags` as strace does, as in `SA_RESTORER|SA_RESTART`. */
export function formatSaFlags(flags: number | bigint): string {
  return formatFlags(flags, SA_FLAG_TABLE);
}

/** A 64-bit signal set as the kernel stores it: bit n - 1 stands for signal n. */
export type Sigset = bigint;

/** The empty signal set. */
export const SIGSET_EMPTY: Sigset = 0n;

/** The set of all 64 signals. */
export const SIGSET_FULL: Sigset = 0xffff_ffff_ffff_ffffn;

/** Returns the set that contains only `signal`; throws RangeError outside 1 to 64. */
export function sigmask(signal: number): Sigset {
  checkSignal(signal);
  return 1n << BigInt(signal - 1);
}

/** The signals a task can never block or catch: SIGKILL and SIGSTOP. The sigprocmask helper below removes them. */
export const SIGSET_UNBLOCKABLE: Sigset = (1n << BigInt(Signal.SIGKILL - 1)) | (1n << BigInt(Signal.SIGSTOP - 1));

/** Returns `set` with `signal` added. */
export function sigsetAdd(set: Sigset, signal: number): Sigset {
  return set | sigmask(signal);
}

/** Returns `set` without `signal`. */
export function sigsetDelete(set: Sigset, signal: number): Sigset {
  return set & ~sigmask(signal);
}

/** Returns whether `set` contains `signal`. */
export function sigsetHas(set: Sigset, signal: number): boolean {
  return (set & sigmask(signal)) !== 0n;
}

/** Returns the signals in `set`, in ascending order. */
export function sigsetSignals(set: Sigset): number[] {
  const signals: number[] = [];
  let rest = BigInt.asUintN(64, set);
  for (let signal = 1; rest !== 0n; signal++, rest >>= 1n) {
    if ((rest & 1n) !== 0n) {
      signals.push(signal);
    }
  }
  return signals;
}

/**
 * Returns the lowest signal in `set`, the one the kernel delivers first among
 * pending signals of equal class, or 0 when the set is empty.
 */
export function sigsetFirst(set: Sigset): number {
  const bits = BigInt.asUintN(64, set);
  if (bits === 0n) {
    return 0;
  }
  const lowest = bits & -bits;
  return lowest.toString(2).length;
}

/**
 * Applies rt_sigprocmask(2) to a mask: returns the new mask for `how` (a
 * SigprocmaskHow value) and `set`, always keeping SIGKILL and SIGSTOP
 * unblocked. Returns undefined for an invalid `how`, which the call rejects with EINVAL.
 */
export function sigprocmask(mask: Sigset, how: number, set: Sigset): Sigset | undefined {
  let result: Sigset;
  switch (how) {
    case SigprocmaskHow.SIG_BLOCK:
      result = mask | set;
      break;
    case SigprocmaskHow.SIG_UNBLOCK:
      result = mask & ~set;
      break;
    case SigprocmaskHow.SIG_SETMASK:
      result = set;
      break;
    default:
      return undefined;
  }
  return BigInt.asUintN(64, result) & ~SIGSET_UNBLOCKABLE;
}
