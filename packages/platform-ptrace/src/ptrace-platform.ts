import { writeSync } from "node:fs";
import {
  FP_XSTATE_MAGIC1,
  FP_XSTATE_MAGIC2_SIZE,
  FXSAVE_SIZE,
  FXSAVE_SW_RESERVED,
  initialFxsave,
  Registers,
  UserRegsOffset,
  USER_CS,
  USER_DS,
  USER_EFLAGS,
  XFEATURE_MASK_FPSSE,
  XSAVE_HEADER_END,
} from "@sandbox/abi";
import {
  type AddressRange,
  type AddressSpace,
  type Context,
  type Platform,
  type PlatformOptions,
  PlatformError,
  PlatformUnavailableError,
  Prot,
  type Trap,
} from "@sandbox/platform";
import * as host from "./host.native";
import {
  PtraceRequest,
  SEGV_ACCERR,
  SIGBUS,
  SIGINFO_SIZE,
  SIGSEGV,
  SIGSTOP,
  stopSignal,
  SYSCALL_STOP,
  wifStopped,
  describeWaitStatus,
} from "./ptrace-constants";
import { buildStubImage, STUB_BASE, STUB_MEMFD, TASK_SIZE } from "./stub";
import { StubProcess, type StubThread } from "./stub-process";

const SYS_MMAP = 9;
const SYS_MPROTECT = 10;
const SYS_MUNMAP = 11;
const MAP_SHARED = 0x01;
const MAP_FIXED = 0x10;
const MFD_CLOEXEC = 1;
/** Host descriptors the platform keeps are moved at or above this number, out of the way of fd 0-2 users. */
const HIGH_FD = 100;
/** Lowest address the application may map (the host's usual vm.mmap_min_addr). */
const MIN_USER_ADDRESS = 0x10000;

/**
 * Rewrites the software-reserved bytes of an NT_X86_XSTATE image, where
 * ptrace puts XCR0 (see struct user_xstateregs in Linux's asm/user.h), into
 * the struct _fpx_sw_bytes that a signal frame has there.
 */
function ptraceToFrameBytes(image: Uint8Array): void {
  const view = new DataView(image.buffer, image.byteOffset, FXSAVE_SIZE);
  const xcr0 = view.getBigUint64(FXSAVE_SW_RESERVED, true);
  image.fill(0, FXSAVE_SW_RESERVED, FXSAVE_SIZE);
  view.setUint32(FXSAVE_SW_RESERVED, FP_XSTATE_MAGIC1, true);
  view.setUint32(FXSAVE_SW_RESERVED + 4, image.length + FP_XSTATE_MAGIC2_SIZE, true);
  view.setBigUint64(FXSAVE_SW_RESERVED + 8, xcr0, true);
  view.setUint32(FXSAVE_SW_RESERVED + 16, image.length, true);
}

/** Turns the software-reserved bytes of a signal frame's XSAVE image back into ptrace's: XCR0 only. */
function frameToPtraceBytes(image: Uint8Array): void {
  const view = new DataView(image.buffer, image.byteOffset, FXSAVE_SIZE);
  const features = view.getBigUint64(FXSAVE_SW_RESERVED + 8, true);
  image.fill(0, FXSAVE_SW_RESERVED, FXSAVE_SIZE);
  view.setBigUint64(FXSAVE_SW_RESERVED, features, true);
}

/** An application address space held by one stub process. */
class PtraceAddressSpace implements AddressSpace {
  constructor(
    readonly stub: StubProcess,
    private readonly onRelease: (as: PtraceAddressSpace) => void,
  ) {}

  mapFile(addr: number, length: number, offset: number, prot: number): void {
    this.check(this.stub.inject(SYS_MMAP, [addr, length, prot, MAP_SHARED | MAP_FIXED, STUB_MEMFD, offset]), "mmap", addr, length);
  }

  unmap(addr: number, length: number): void {
    if (!this.stub.isAlive) return;
    this.check(this.stub.inject(SYS_MUNMAP, [addr, length]), "munmap", addr, length);
  }

  protect(addr: number, length: number, prot: number): void {
    this.check(this.stub.inject(SYS_MPROTECT, [addr, length, prot]), "mprotect", addr, length);
  }

  release(): void {
    this.stub.kill();
    this.onRelease(this);
  }

  private check(result: bigint, call: string, addr: number, length: number): void {
    if (result < 0n && result > -4096n) {
      throw new PlatformError(`${call}(0x${addr.toString(16)}, ${length}) in stub ${this.stub.pid} failed: errno ${-result}`);
    }
  }
}

/**
 * One application thread's state, run by PTRACE_SYSEMU in a thread of an
 * address space's stub. A context keeps using the same stub thread while it
 * is free, so its FPU state usually stays loaded there.
 */
class PtraceContext implements Context {
  readonly regs = new Registers();
  /**
   * The FPU state while it is loaded in no stub thread: the host's XSAVE image
   * (from NT_X86_XSTATE, whose software-reserved bytes describe it) or a
   * bare FXSAVE image. Its first fpLength bytes count.
   */
  private fp = initialFxsave();
  private fpLength = FXSAVE_SIZE;
  private readonly siginfo = new Uint8Array(SIGINFO_SIZE);
  private readonly siginfoView = new DataView(this.siginfo.buffer);
  /** The stub thread this context ran in last; its FPU registers are this context's while its fpuOwner is this context. */
  private thread: StubThread | undefined;
  private running: StubThread | undefined;
  private interruptPending = false;

  constructor() {
    this.regs.setNumber(UserRegsOffset.cs, USER_CS);
    this.regs.setNumber(UserRegsOffset.ss, USER_DS);
    this.regs.setNumber(UserRegsOffset.eflags, USER_EFLAGS);
  }

  async switchTo(addressSpace: AddressSpace): Promise<Trap> {
    const as = addressSpace as PtraceAddressSpace;
    if (this.interruptPending) {
      this.interruptPending = false;
      return { kind: "interrupt" };
    }

    const preferred = this.thread !== undefined && as.stub.threads.includes(this.thread) ? this.thread : undefined;
    const thread = as.stub.freeThread(preferred);
    thread.busy = this;
    this.running = thread;
    try {
      this.loadFpState(thread);
      thread.setRegisters(this.regs);
      thread.resume(PtraceRequest.SYSEMU);
      const waited = thread.wait();
      const status = typeof waited === "number" ? waited : await waited;
      if (!wifStopped(status)) {
        throw new PlatformError(`stub thread ${thread.tid} ${describeWaitStatus(status)} while running the application`);
      }
      thread.getRegisters(this.regs);
      return this.classify(thread, stopSignal(status));
    } finally {
      thread.busy = undefined;
      this.running = undefined;
    }
  }

  readFpState(): Uint8Array {
    const thread = this.thread;
    if (thread !== undefined && thread.fpuOwner === this && thread.isAlive && thread.busy === undefined) this.saveFpState(thread);
    const state = this.fp.slice(0, this.fpLength);
    if (this.fpLength >= XSAVE_HEADER_END) ptraceToFrameBytes(state);
    return state;
  }

  writeFpState(state: Uint8Array): void {
    const thread = this.thread;
    if (thread !== undefined && thread.fpuOwner === this) thread.fpuOwner = undefined;
    if (state.length === FXSAVE_SIZE) {
      if (this.fpLength >= XSAVE_HEADER_END) this.setLegacyOnly(state);
      else this.fp.set(state);
      return;
    }
    if (state.length < XSAVE_HEADER_END || state.length > host.XSTATE_CAPACITY) {
      throw new RangeError(`FPU state must be a ${FXSAVE_SIZE}-byte FXSAVE image or an XSAVE image from readFpState, got ${state.length} bytes`);
    }
    if (this.fp.length < state.length) this.fp = new Uint8Array(host.XSTATE_CAPACITY);
    this.fp.set(state);
    this.fpLength = state.length;
    frameToPtraceBytes(this.fp);
  }

  /** Makes `thread` hold this context's FPU state, saving the previous owner's first. */
  private loadFpState(thread: StubThread): void {
    this.thread = thread;
    if (thread.fpuOwner === this) return;
    const previous = thread.fpuOwner;
    if (previous instanceof PtraceContext) previous.saveFpState(thread);
    this.restoreFpState(thread);
    thread.fpuOwner = this;
  }

  /**
   * Saves this context's state from `thread`, which has it loaded: the whole
   * XSAVE image where the host gives it, since the FXSAVE image lacks the
   * upper halves of the YMM registers and the AVX-512 state.
   */
  private saveFpState(thread: StubThread): void {
    if (this.fp.length < host.XSTATE_CAPACITY) this.fp = new Uint8Array(host.XSTATE_CAPACITY);
    const length = thread.getXState(this.fp);
    if (length >= XSAVE_HEADER_END) {
      this.fpLength = length;
      return;
    }
    thread.getFpRegisters(this.fp);
    this.fpLength = FXSAVE_SIZE;
  }

  /**
   * Loads this context's saved state into `thread`. A bare FXSAVE image
   * becomes an XSAVE image in the host's format first, so that the other
   * components start in their initial state instead of keeping the values
   * another context left in the thread.
   */
  private restoreFpState(thread: StubThread): void {
    if (this.fpLength === FXSAVE_SIZE) {
      const legacy = this.fp.slice(0, FXSAVE_SIZE);
      if (this.fp.length < host.XSTATE_CAPACITY) this.fp = new Uint8Array(host.XSTATE_CAPACITY);
      const length = thread.getXState(this.fp);
      if (length < XSAVE_HEADER_END) {
        thread.setFpRegisters(legacy);
        this.fp.set(legacy);
        return;
      }
      this.fpLength = length;
      this.setLegacyOnly(legacy);
    }
    // Where the host rejects the image, x87 and SSE still load.
    if (!thread.setXState(this.fp, this.fpLength)) thread.setFpRegisters(this.fp);
  }

  /** Puts x87 and SSE state from the FXSAVE image `legacy` into the XSAVE image, with every other component initial. */
  private setLegacyOnly(legacy: Uint8Array): void {
    this.fp.set(legacy.subarray(0, FXSAVE_SW_RESERVED));
    this.fp.fill(0, FXSAVE_SIZE, this.fpLength);
    new DataView(this.fp.buffer, FXSAVE_SIZE, 8).setBigUint64(0, XFEATURE_MASK_FPSSE, true);
  }

  private classify(thread: StubThread, signal: number): Trap {
    if (signal === SYSCALL_STOP) return { kind: "syscall" };
    if (signal === SIGSTOP && this.interruptPending) {
      this.interruptPending = false;
      return { kind: "interrupt" };
    }

    thread.getSiginfo(this.siginfo);
    const signo = this.siginfoView.getInt32(0, true);
    const code = this.siginfoView.getInt32(8, true);
    const addr = Number(this.siginfoView.getBigUint64(16, true));
    if (signo === SIGSTOP) return { kind: "interrupt" };
    if (signo === SIGSEGV || signo === SIGBUS) {
      return { kind: "fault", signo, code, addr, access: this.inferAccess(code, addr) };
    }
    return { kind: "signal", signo, code, addr };
  }

  /**
   * Infers the access type of a fault, because ptrace does not report the
   * page-fault error code. A fault at the instruction pointer is an
   * instruction fetch. A protection fault elsewhere is a write, since a read
   * of a readable page cannot fault. Anything else is reported as a read.
   */
  private inferAccess(code: number, addr: number): number {
    const rip = this.regs.rip;
    if (addr >= rip && addr < rip + 16 && Math.floor(addr / 4096) === Math.floor(rip / 4096)) return Prot.Exec;
    if (code === SEGV_ACCERR) return Prot.Write;
    return Prot.Read;
  }

  interrupt(): void {
    this.interruptPending = true;
    this.running?.interrupt();
  }

  release(): void {
    this.interrupt();
    const thread = this.thread;
    if (thread !== undefined && thread.fpuOwner === this) thread.fpuOwner = undefined;
    this.thread = undefined;
  }
}

/**
 * The Platform over PTRACE_SYSEMU. Every address space is a stub process
 * that the Sentry's thread traces. The application's system calls stop the
 * stub before they run, and the host never executes them.
 */
export class PtracePlatform implements Platform {
  readonly name = "ptrace";
  readonly userRange: AddressRange = { start: MIN_USER_ADDRESS, end: STUB_BASE };
  readonly reservedRanges: readonly AddressRange[] = [{ start: STUB_BASE, end: TASK_SIZE }];

  private readonly executableFd: number;
  private readonly memoryFd: number;
  private readonly gadgetAddress: number;
  private readonly addressSpaces = new Set<PtraceAddressSpace>();
  private readonly exitHandler = () => this.close();
  private closed = false;

  constructor(options: PlatformOptions) {
    const image = buildStubImage();
    this.gadgetAddress = image.gadgetAddress;

    const stubFd = host.memfdCreate("sandbox-stub", MFD_CLOEXEC);
    if (stubFd < 0) throw new PlatformUnavailableError("ptrace", `memfd_create failed: errno ${host.lastErrno()}`);
    try {
      let written = 0;
      while (written < image.elf.length) written += writeSync(stubFd, image.elf, written);
      this.executableFd = host.duplicateAtOrAbove(stubFd, HIGH_FD);
      this.memoryFd = host.duplicateAtOrAbove(options.memoryFile.fd, HIGH_FD);
    } finally {
      host.close(stubFd);
    }
    process.on("exit", this.exitHandler);
  }

  /** Checks that this host lets us trace a stub; throws PlatformUnavailableError with the reason if not. */
  probe(): void {
    let stub: StubProcess;
    try {
      stub = this.spawnStub();
    } catch (error) {
      throw new PlatformUnavailableError("ptrace", (error as Error).message);
    }
    stub.kill();
  }

  private spawnStub(): StubProcess {
    return StubProcess.spawn({ executableFd: this.executableFd, memoryFd: this.memoryFd, gadgetAddress: this.gadgetAddress });
  }

  newAddressSpace(): AddressSpace {
    if (this.closed) throw new PlatformError("platform is closed");
    const as = new PtraceAddressSpace(this.spawnStub(), (released) => this.addressSpaces.delete(released));
    this.addressSpaces.add(as);
    return as;
  }

  newContext(): Context {
    return new PtraceContext();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    process.off("exit", this.exitHandler);
    for (const as of this.addressSpaces) as.stub.kill();
    this.addressSpaces.clear();
    host.close(this.executableFd);
    host.close(this.memoryFd);
  }
}
