import type { Registers } from "@sandbox/abi";

/** Memory protection bits, with the values of PROT_READ, PROT_WRITE and PROT_EXEC. */
export enum Prot {
  None = 0,
  Read = 1,
  Write = 2,
  Exec = 4,
}

/** The kind of memory access that caused a fault, as a set of Prot bits. */
export type AccessType = number;

/** A half-open range of user addresses, [start, end). */
export interface AddressRange {
  readonly start: number;
  readonly end: number;
}

/**
 * The host file (a memfd) that backs all application memory of a sandbox.
 * Every application mapping is a MAP_SHARED mapping of a range of it.
 */
export interface MemoryFile {
  /** Host descriptor of the memfd, open in the Sentry's process. */
  readonly fd: number;
}

/**
 * One application address space on the host (a ptrace stub process, a set
 * of guest page tables, ...). The memory manager drives it: mm decides what
 * is mapped where, and the address space only mirrors those decisions.
 * All addresses and lengths are page-aligned; `offset` is a byte offset into
 * the sandbox's MemoryFile.
 */
export interface AddressSpace {
  /** Maps [addr, addr+length) to the memory file at `offset`, replacing what was there. */
  mapFile(addr: number, length: number, offset: number, prot: number): void;
  /** Removes any mapping in [addr, addr+length). */
  unmap(addr: number, length: number): void;
  /** Changes the protection of mappings in [addr, addr+length). */
  protect(addr: number, length: number, prot: number): void;
  /** Frees host resources and removes every mapping; the address space cannot be used afterwards. */
  release(): void;
}

/** A system call instruction stopped before it ran; the number and arguments are in the registers. */
export interface SyscallTrap {
  readonly kind: "syscall";
}

/** A page fault (SIGSEGV or SIGBUS on the host). */
export interface FaultTrap {
  readonly kind: "fault";
  /** SIGSEGV or SIGBUS. */
  readonly signo: number;
  /** The host si_code, e.g. SEGV_MAPERR or SEGV_ACCERR. */
  readonly code: number;
  /** The faulting address. */
  readonly addr: number;
  /** The kind of access, as Prot bits, or Prot.Read when the platform cannot tell. */
  readonly access: AccessType;
}

/** A synchronous exception other than a page fault (SIGILL, SIGTRAP, SIGFPE, ...). */
export interface SignalTrap {
  readonly kind: "signal";
  readonly signo: number;
  readonly code: number;
  /** The address the host reported in si_addr (0 where there is none). */
  readonly addr: number;
}

/**
 * The context was stopped before the application trapped on its own: by
 * `interrupt()`, or by the platform, to let other contexts run.
 */
export interface InterruptTrap {
  readonly kind: "interrupt";
}

/** The reason a context came back from the application. */
export type Trap = SyscallTrap | FaultTrap | SignalTrap | InterruptTrap;

/**
 * The execution state of one application thread: its registers and FPU
 * state, and the means of running it in an address space until it traps.
 */
export interface Context {
  /** The general registers; read and written by the Sentry between switches. */
  readonly regs: Registers;
  /**
   * The FPU and extended register state in the XSAVE layout that Linux puts
   * in signal frames (the 512-byte FXSAVE area, then the XSAVE header and
   * components), where the platform can reach it. Read and changed by the
   * Sentry between switches only; empty before the context first ran.
   */
  readonly fpState?: Uint8Array;
  /**
   * Runs the application in `as` with `regs` until it traps. On return,
   * `regs` holds the state at the trap. For a system call, rip already points
   * past the `syscall` instruction and rax is to be set to the result.
   */
  switchTo(as: AddressSpace): Promise<Trap>;
  /**
   * Returns a copy of the FPU and extended register state as the application
   * left it at its last trap, as Linux puts it in a signal frame without the
   * trailing FP_XSTATE_MAGIC2: an XSAVE image in the standard format whose
   * software-reserved bytes (struct _fpx_sw_bytes) give its size and
   * features, or a bare 512-byte FXSAVE image where the platform has no
   * XSAVE state. Signal frames and fork use it. A platform without it gives
   * new frames and children the initial state.
   */
  readFpState?(): Uint8Array;
  /**
   * Replaces the state that the next switch loads with an image from
   * readFpState, or with a bare FXSAVE image, which leaves every component
   * other than x87 and SSE in its initial state.
   */
  writeFpState?(state: Uint8Array): void;
  /** Makes a running or the next `switchTo` return an InterruptTrap soon. */
  interrupt(): void;
  /** Frees host resources of this context. */
  release(): void;
}

/** Options every platform accepts when it is created for a sandbox. */
export interface PlatformOptions {
  /** The memfd that backs all application memory. */
  readonly memoryFile: MemoryFile;
}

/**
 * A way to run application code and catch every system call, fault and
 * signal it causes. One Platform serves one sandbox.
 */
export interface Platform {
  /** Short name used on the command line, such as "ptrace". */
  readonly name: string;
  /** The lowest and one past the highest address the application may map. */
  readonly userRange: AddressRange;
  /** Address ranges the platform uses itself; the memory manager never maps over them. */
  readonly reservedRanges: readonly AddressRange[];
  /** Creates an empty address space. */
  newAddressSpace(): AddressSpace;
  /** Creates a context with zeroed registers. */
  newContext(): Context;
  /** Ends every host process and frees every resource of the platform. Idempotent. */
  close(): void;
}

/** A platform that could not be started, with the reason for the user. */
export class PlatformUnavailableError extends Error {
  constructor(
    readonly platform: string,
    reason: string,
  ) {
    super(`platform ${platform} is not available: ${reason}`);
    this.name = "PlatformUnavailableError";
  }
}

/** The host side of a platform failed in a way the application did not cause. */
export class PlatformError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PlatformError";
  }
}
