import { Registers, UserRegsOffset, USER_CS, USER_DS, USER_EFLAGS } from "@sandbox/abi";
import { PlatformError } from "@sandbox/platform";
import * as host from "./host.native";
import {
  describeWaitStatus,
  PTRACE_O_EXITKILL,
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
 * One traced stub process. Its registers are owned by whichever context ran
 * in it last; syscall injection clobbers them, since every switch into the
 * application sets all of them again.
 */
export class StubProcess {
  private readonly status = new Int32Array(1);
  private readonly scratch = new Registers();
  private alive = true;
  /** The context whose FPU state is loaded in the stub thread. */
  fpuOwner: unknown = undefined;

  private constructor(
    readonly pid: number,
    private readonly gadgetAddress: number,
  ) {}

  /** Spawns a stub and waits until it stops itself under our trace. */
  static spawn(files: StubFiles): StubProcess {
    const pid = host.spawn(`/proc/self/fd/${STUB_EXE_FD}`, ["sandbox-stub"], [
      { from: files.memoryFd, to: STUB_MEMFD },
      { from: files.executableFd, to: STUB_EXE_FD },
    ]);
    const stub = new StubProcess(pid, files.gadgetAddress);
    const status = stub.waitBlocking();
    if (!wifStopped(status) || stopSignal(status) !== SIGSTOP) {
      stub.kill();
      const reason = status === STUB_TRACEME_FAILED << 8 ? "PTRACE_TRACEME failed (is runsc itself being traced?)" : describeWaitStatus(status);
      throw new PlatformError(`stub ${pid} did not start: ${reason}`);
    }
    if (host.ptraceValue(PtraceRequest.SETOPTIONS, pid, 0, PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD) < 0) {
      const errno = host.lastErrno();
      stub.kill();
      throw new PlatformError(`PTRACE_SETOPTIONS on stub ${pid} failed: errno ${errno}`);
    }
    return stub;
  }

  get isAlive(): boolean {
    return this.alive;
  }

  /** Waits for the next stop or exit of the stub, blocking the thread. */
  waitBlocking(): number {
    for (;;) {
      const result = host.waitpid(this.pid, this.status, WALL);
      if (result === this.pid) return this.observe(this.status[0]);
      const errno = host.lastErrno();
      if (errno !== 4 /* EINTR */) throw new PlatformError(`waitpid(${this.pid}) failed: errno ${errno}`);
    }
  }

  /** Waits for the next stop or exit: polls for a short while, then waits off the main thread. */
  wait(): number | Promise<number> {
    const deadline = process.hrtime.bigint() + SPIN_NANOSECONDS;
    do {
      const result = host.waitpid(this.pid, this.status, WNOHANG | WALL);
      if (result === this.pid) return this.observe(this.status[0]);
      if (result < 0) throw new PlatformError(`waitpid(${this.pid}) failed: errno ${host.lastErrno()}`);
    } while (process.hrtime.bigint() < deadline);
    return this.waitOffThread();
  }

  private async waitOffThread(): Promise<number> {
    for (;;) {
      const { result, status, errno } = await host.waitpidAsync(this.pid, WALL);
      if (result === this.pid) return this.observe(status);
      if (errno !== 4) throw new PlatformError(`waitpid(${this.pid}) failed: errno ${errno}`);
    }
  }

  private observe(status: number): number {
    if (!wifStopped(status)) this.alive = false;
    return status;
  }

  /** Resumes the stub with `request` (SYSEMU or CONT), suppressing any pending stop signal. */
  resume(request: PtraceRequest): void {
    if (host.ptraceValue(request, this.pid, 0, 0) < 0) {
      throw new PlatformError(`ptrace(${PtraceRequest[request]}, ${this.pid}) failed: errno ${host.lastErrno()}`);
    }
  }

  getRegisters(regs: Registers): void {
    this.checked(host.ptraceBuffer(PtraceRequest.GETREGS, this.pid, 0, regs.bytes), "PTRACE_GETREGS");
  }

  setRegisters(regs: Registers): void {
    this.checked(host.ptraceBuffer(PtraceRequest.SETREGS, this.pid, 0, regs.bytes), "PTRACE_SETREGS");
  }

  getFpRegisters(buffer: Uint8Array): void {
    this.checked(host.ptraceBuffer(PtraceRequest.GETFPREGS, this.pid, 0, buffer), "PTRACE_GETFPREGS");
  }

  setFpRegisters(buffer: Uint8Array): void {
    this.checked(host.ptraceBuffer(PtraceRequest.SETFPREGS, this.pid, 0, buffer), "PTRACE_SETFPREGS");
  }

  getSiginfo(buffer: Uint8Array): void {
    this.checked(host.ptraceBuffer(PtraceRequest.GETSIGINFO, this.pid, 0, buffer), "PTRACE_GETSIGINFO");
  }

  /**
   * Runs host system call `nr` inside the stub and returns its raw result.
   * Only the platform calls this, with arguments it chose; the application
   * never reaches this path, because it runs under PTRACE_SYSEMU.
   */
  inject(nr: number, args: readonly number[]): bigint {
    const regs = this.scratch;
    regs.bytes.fill(0);
    regs.setNumber(UserRegsOffset.rax, nr);
    const argOffsets = [UserRegsOffset.rdi, UserRegsOffset.rsi, UserRegsOffset.rdx, UserRegsOffset.r10, UserRegsOffset.r8, UserRegsOffset.r9];
    args.forEach((value, index) => regs.set(argOffsets[index], BigInt(value)));
    regs.rip = this.gadgetAddress;
    regs.setNumber(UserRegsOffset.cs, USER_CS);
    regs.setNumber(UserRegsOffset.ss, USER_DS);
    regs.setNumber(UserRegsOffset.eflags, USER_EFLAGS);
    this.setRegisters(regs);
    this.resume(PtraceRequest.CONT);

    const status = this.waitBlocking();
    if (!wifStopped(status) || stopSignal(status) !== SIGTRAP) {
      if (wifStopped(status)) this.kill();
      throw new PlatformError(`stub ${this.pid} failed injected syscall ${nr}: ${describeWaitStatus(status)}`);
    }
    this.getRegisters(regs);
    return BigInt.asIntN(64, regs.get(UserRegsOffset.rax));
  }

  /** Kills and reaps the stub. Idempotent. */
  kill(): void {
    if (!this.alive) return;
    this.alive = false;
    host.kill(this.pid, SIGKILL);
    while (host.waitpid(this.pid, this.status, WALL) < 0 && host.lastErrno() === 4) {
      // Retry on EINTR; any other error means the stub is already gone.
    }
  }

  private checked(result: number, what: string): void {
    if (result < 0) throw new PlatformError(`${what} on stub ${this.pid} failed: errno ${host.lastErrno()}`);
  }
}
