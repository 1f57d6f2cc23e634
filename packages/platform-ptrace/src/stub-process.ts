import { Registers, UserRegsOffset, USER_CS, USER_DS, USER_EFLAGS } from "@sandbox/abi";
import { PlatformError } from "@sandbox/platform";
import * as host from "./host.native";
import {
  describeWaitStatus,
  PTRACE_EVENT_CLONE,
  PTRACE_O_EXITKILL,
  PTRACE_O_TRACECLONE,
  PTRACE_O_TRACESYSGOOD,
  PtraceRequest,
  SIGKILL,
  SIGSTOP,
  SIGTRAP,
  stopSignal,
  WALL,
  wifStopped,
  WNOHANG,
} from "./ptrace-constants";
import { STUB_EXE_FD, STUB_MEMFD, STUB_TRACEME_FAILED } from "./stub";

/**
 * How long the tracer polls for a tracee's stop before it hands the wait to a
 * libuv pool thread. Polling avoids a sleep and wake-up per system call; the
 * bound keeps a long-running tracee from pinning the Sentry's thread.
 */
const SPIN_NANOSECONDS = 200_000n;
const SYS_CLONE = 56;
/** Flags of the threads the stub starts for contexts: one thread group, sharing everything. */
const THREAD_CLONE_FLAGS = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000; // VM, FS, FILES, SIGHAND, THREAD, SYSVSEM

/** The files every stub gets: its own executable and the sandbox memfd. */
export interface StubFiles {
  /** A descriptor of the stub executable (a sealed memfd). */
  readonly executableFd: number;
  /** The sandbox memfd. */
  readonly memoryFd: number;
  /** Address of the `syscall; int3` gadget in the stub. */
  readonly gadgetAddress: number;
}

/**
 * One traced thread of a stub process. Its registers belong to whichever
 * context ran in it last; every switch into the application sets all of them.
 */
export class StubThread {
  private readonly status = new Int32Array(1);
  private alive = true;
  /** The context whose FPU state is loaded in this thread. */
  fpuOwner: unknown = undefined;
  /** The context running in this thread, if any. */
  busy: unknown = undefined;

  constructor(
    readonly tgid: number,
    readonly tid: number,
  ) {}

  get isAlive(): boolean {
    return this.alive;
  }

  /** Waits for the next stop or exit of this thread, blocking the Sentry's thread. */
  waitBlocking(): number {
    for (;;) {
      const result = host.waitpid(this.tid, this.status, WALL);
      if (result === this.tid) return this.observe(this.status[0]);
      const errno = host.lastErrno();
      if (errno !== 4 /* EINTR */) {
        this.alive = false;
        throw new PlatformError(`waitpid(${this.tid}) failed: errno ${errno}`);
      }
    }
  }

  /** Waits for the next stop or exit: polls for a short while, then waits off the main thread. */
  wait(): number | Promise<number> {
    const deadline = process.hrtime.bigint() + SPIN_NANOSECONDS;
    do {
      const result = host.waitpid(this.tid, this.status, WNOHANG | WALL);
      if (result === this.tid) return this.observe(this.status[0]);
      if (result < 0) {
        this.alive = false;
        throw new PlatformError(`waitpid(${this.tid}) failed: errno ${host.lastErrno()}`);
      }
    } while (process.hrtime.bigint() < deadline);
    return this.waitOffThread();
  }

  private async waitOffThread(): Promise<number> {
    for (;;) {
      const { result, status, errno } = await host.waitpidAsync(this.tid, WALL);
      if (result === this.tid) return this.observe(status);
      if (errno !== 4) {
        this.alive = false;
        throw new PlatformError(`waitpid(${this.tid}) failed: errno ${errno}`);
      }
    }
  }

  private observe(status: number): number {
    if (!wifStopped(status)) this.alive = false;
    return status;
  }

  /** Resumes the thread with `request` (SYSEMU or CONT), suppressing any pending stop signal. */
  resume(request: PtraceRequest): void {
    if (host.ptraceValue(request, this.tid, 0, 0) < 0) {
      throw new PlatformError(`ptrace(${PtraceRequest[request]}, ${this.tid}) failed: errno ${host.lastErrno()}`);
    }
  }

  getRegisters(regs: Registers): void {
    this.checked(host.ptraceBuffer(PtraceRequest.GETREGS, this.tid, 0, regs.bytes), "PTRACE_GETREGS");
  }

  setRegisters(regs: Registers): void {
    this.checked(host.ptraceBuffer(PtraceRequest.SETREGS, this.tid, 0, regs.bytes), "PTRACE_SETREGS");
  }

  getFpRegisters(buffer: Uint8Array): void {
    this.checked(host.ptraceBuffer(PtraceRequest.GETFPREGS, this.tid, 0, buffer), "PTRACE_GETFPREGS");
  }

  setFpRegisters(buffer: Uint8Array): void {
    this.checked(host.ptraceBuffer(PtraceRequest.SETFPREGS, this.tid, 0, buffer), "PTRACE_SETFPREGS");
  }

  /** Copies the thread's whole XSAVE image into `out` and returns its length, or 0 where the host does not give it. */
  getXState(out: Uint8Array): number {
    return Math.max(0, host.getXState(this.tid, out));
  }

  /** Loads an XSAVE image from getXState; returns false if the host refused it. */
  setXState(state: Uint8Array, length: number): boolean {
    return host.setXState(this.tid, state, length) >= 0;
  }

  getSiginfo(buffer: Uint8Array): void {
    this.checked(host.ptraceBuffer(PtraceRequest.GETSIGINFO, this.tid, 0, buffer), "PTRACE_GETSIGINFO");
  }

  /** Makes the thread stop soon with a signal-delivery stop of SIGSTOP, which the platform suppresses. */
  interrupt(): void {
    if (this.alive) host.tgkill(this.tgid, this.tid, SIGSTOP);
  }

  /** Reaps the thread after its process was killed. */
  reap(): void {
    if (!this.alive) return;
    this.alive = false;
    while (host.waitpid(this.tid, this.status, WALL) < 0 && host.lastErrno() === 4) {
      // Retry on EINTR; any other error means the thread is already gone.
    }
  }

  private checked(result: number, what: string): void {
    if (result < 0) throw new PlatformError(`${what} on stub thread ${this.tid} failed: errno ${host.lastErrno()}`);
  }
}

/**
 * A traced stub process. Its main thread never runs application code. It
 * stays stopped, ready to run the host system calls the platform injects
 * (mmap, munmap, mprotect, and clone for the threads that run contexts),
 * even while other threads of the stub run the application.
 */
export class StubProcess {
  readonly main: StubThread;
  /** Threads that run contexts, started on demand. */
  readonly threads: StubThread[] = [];
  private readonly scratch = new Registers();
  private readonly eventMessage = new Uint8Array(8);

  private constructor(
    readonly pid: number,
    private readonly gadgetAddress: number,
  ) {
    this.main = new StubThread(pid, pid);
  }

  /** Spawns a stub and waits until it stops itself under our trace. */
  static spawn(files: StubFiles): StubProcess {
    let pid: number;
    try {
      pid = host.spawn(`/proc/self/fd/${STUB_EXE_FD}`, ["sandbox-stub"], [
        { from: files.memoryFd, to: STUB_MEMFD },
        { from: files.executableFd, to: STUB_EXE_FD },
      ]);
    } catch (error) {
      throw new PlatformError(`cannot start a stub process: ${(error as Error).message}`);
    }
    const stub = new StubProcess(pid, files.gadgetAddress);
    const status = stub.main.waitBlocking();
    if (!wifStopped(status) || stopSignal(status) !== SIGSTOP) {
      stub.kill();
      const reason = status === STUB_TRACEME_FAILED << 8 ? "PTRACE_TRACEME failed (is runsc itself being traced?)" : describeWaitStatus(status);
      throw new PlatformError(`stub ${pid} did not start: ${reason}`);
    }
    const options = PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE;
    if (host.ptraceValue(PtraceRequest.SETOPTIONS, pid, 0, options) < 0) {
      const errno = host.lastErrno();
      stub.kill();
      throw new PlatformError(`PTRACE_SETOPTIONS on stub ${pid} failed: errno ${errno}`);
    }
    return stub;
  }

  get isAlive(): boolean {
    return this.main.isAlive;
  }

  /** Returns a thread no context is running in, starting a new one if needed. */
  freeThread(preferred: StubThread | undefined): StubThread {
    if (preferred !== undefined && preferred.busy === undefined && preferred.isAlive) return preferred;
    const idle = this.threads.find((thread) => thread.busy === undefined && thread.isAlive);
    return idle ?? this.startThread();
  }

  /** Starts a new stub thread with an injected clone; it stays stopped until a context runs in it. */
  private startThread(): StubThread {
    this.prepareInjection(SYS_CLONE, [THREAD_CLONE_FLAGS, 0, 0, 0, 0]);
    this.main.resume(PtraceRequest.CONT);
    let status = this.main.waitBlocking();
    if (!wifStopped(status) || status >> 8 !== (SIGTRAP | (PTRACE_EVENT_CLONE << 8))) {
      throw new PlatformError(`stub ${this.pid} did not report its new thread: ${describeWaitStatus(status)}`);
    }
    if (host.ptraceBuffer(PtraceRequest.GETEVENTMSG, this.pid, 0, this.eventMessage) < 0) {
      throw new PlatformError(`PTRACE_GETEVENTMSG on stub ${this.pid} failed: errno ${host.lastErrno()}`);
    }
    const tid = Number(new DataView(this.eventMessage.buffer).getBigUint64(0, true));
    this.main.resume(PtraceRequest.CONT);
    status = this.main.waitBlocking();
    if (!wifStopped(status) || stopSignal(status) !== SIGTRAP) {
      throw new PlatformError(`stub ${this.pid} failed after clone: ${describeWaitStatus(status)}`);
    }

    const thread = new StubThread(this.pid, tid);
    status = thread.waitBlocking();
    if (!wifStopped(status) || stopSignal(status) !== SIGSTOP) {
      throw new PlatformError(`stub thread ${tid} did not start: ${describeWaitStatus(status)}`);
    }
    this.threads.push(thread);
    return thread;
  }

  private prepareInjection(nr: number, args: readonly number[]): void {
    const regs = this.scratch;
    regs.bytes.fill(0);
    regs.setNumber(UserRegsOffset.rax, nr);
    const argOffsets = [UserRegsOffset.rdi, UserRegsOffset.rsi, UserRegsOffset.rdx, UserRegsOffset.r10, UserRegsOffset.r8, UserRegsOffset.r9];
    args.forEach((value, index) => regs.set(argOffsets[index], BigInt(value)));
    regs.rip = this.gadgetAddress;
    regs.setNumber(UserRegsOffset.cs, USER_CS);
    regs.setNumber(UserRegsOffset.ss, USER_DS);
    regs.setNumber(UserRegsOffset.eflags, USER_EFLAGS);
    this.main.setRegisters(regs);
  }

  /**
   * Runs host system call `nr` in the stub's main thread and returns its raw
   * result. Only the platform calls this, with arguments it chose; the
   * application never reaches this path, because it runs under PTRACE_SYSEMU.
   */
  inject(nr: number, args: readonly number[]): bigint {
    this.prepareInjection(nr, args);
    this.main.resume(PtraceRequest.CONT);
    const status = this.main.waitBlocking();
    if (!wifStopped(status) || stopSignal(status) !== SIGTRAP) {
      if (wifStopped(status)) this.kill();
      throw new PlatformError(`stub ${this.pid} failed injected syscall ${nr}: ${describeWaitStatus(status)}`);
    }
    this.main.getRegisters(this.scratch);
    return BigInt.asIntN(64, this.scratch.get(UserRegsOffset.rax));
  }

  /** Kills and reaps the stub and all its threads. Idempotent. */
  kill(): void {
    if (!this.main.isAlive && this.threads.every((thread) => !thread.isAlive)) return;
    host.kill(this.pid, SIGKILL);
    for (const thread of this.threads) thread.reap();
    this.main.reap();
  }
}
