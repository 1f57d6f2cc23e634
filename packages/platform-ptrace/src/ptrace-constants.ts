/** ptrace(2) requests (include/uapi/linux/ptrace.h, arch/x86/include/uapi/asm/ptrace-abi.h). */
export enum PtraceRequest {
  CONT = 7,
  KILL = 8,
  GETREGS = 12,
  SETREGS = 13,
  GETFPREGS = 14,
  SETFPREGS = 15,
  SYSEMU = 31,
  SETOPTIONS = 0x4200,
  GETEVENTMSG = 0x4201,
  GETSIGINFO = 0x4202,
}

export const PTRACE_O_TRACESYSGOOD = 0x1;
export const PTRACE_O_EXITKILL = 0x100000;
export const PTRACE_O_TRACECLONE = 0x8;
export const PTRACE_EVENT_CLONE = 3;

export const WNOHANG = 1;
export const WALL = 0x40000000;

export const SIGKILL = 9;
export const SIGSTOP = 19;
export const SIGTRAP = 5;
export const SIGSEGV = 11;
export const SIGBUS = 7;

/** The stop signal of a syscall stop when PTRACE_O_TRACESYSGOOD is set. */
export const SYSCALL_STOP = SIGTRAP | 0x80;

export const SEGV_MAPERR = 1;
export const SEGV_ACCERR = 2;


/** Size of siginfo_t. */
export const SIGINFO_SIZE = 128;

export function wifExited(status: number): boolean {
  return (status & 0x7f) === 0;
}

export function wifSignaled(status: number): boolean {
  return ((status & 0x7f) + 1) >> 1 > 0 && (status & 0x7f) !== 0x7f;
}

export function wifStopped(status: number): boolean {
  return (status & 0xff) === 0x7f;
}

export function stopSignal(status: number): number {
  return (status >> 8) & 0xff;
}

/** Describes a wait status for error messages. */
export function describeWaitStatus(status: number): string {
  if (wifExited(status)) return `exited with status ${(status >> 8) & 0xff}`;
  if (wifSignaled(status)) return `killed by signal ${status & 0x7f}`;
  if (wifStopped(status)) return `stopped by signal ${stopSignal(status)}`;
  return `wait status 0x${status.toString(16)}`;
}
