import { writeSync } from "node:fs";
import {
  type AddressRange,
  type AddressSpace,
  type Context,
  type Platform,
  type PlatformOptions,
  PlatformError,
} from "@sandbox/platform";
import { CpuSpreader } from "./CpuSpreader";
import { Dispatcher } from "./Dispatcher";
import { probeSystrap } from "./probe";
import { closeFd, memfdCreate } from "./host.native";
import { DEFAULT_STUB_PAUSE, DEFAULT_STUB_SPIN, StubProcess } from "./StubProcess";

export { DEFAULT_STUB_PAUSE, DEFAULT_STUB_SPIN };
import { STUB_ELF_BASE64, Layout } from "./stub/image.generated";
import { SystrapAddressSpace } from "./SystrapAddressSpace";
import { SystrapContext } from "./SystrapContext";

/**
 * Number of stub processes kept for new address spaces after theirs was
 * released. Starting a stub costs a posix_spawn, a control region and a
 * socket pair, and a shell needs a new address space for each fork and
 * each execve.
 */
const STUB_POOL_SIZE = 4;

/** Lowest address an application may map (the kernel's default mmap_min_addr). */
const USER_START = 0x10000;

/**
 * How long the Sentry spins for a trap after a switch, in milliseconds. See
 * README.md ("Waiting") for the measurements behind the defaults.
 */
export const DEFAULT_SPIN_MS = 0.02;

/**
 * How long the Sentry then blocks on the futex of a lone running context
 * before it returns to the event loop, in milliseconds.
 */
export const DEFAULT_SLEEP_MS = 0.2;

/** Options of the systrap platform. */
export interface SystrapOptions extends PlatformOptions {
  /** Overrides DEFAULT_SPIN_MS (0 skips the spin). */
  readonly spinMs?: number;
  /** Overrides DEFAULT_SLEEP_MS (0 goes from the spin straight to the event loop). */
  readonly sleepMs?: number;
  /** Overrides DEFAULT_STUB_SPIN (0 makes stubs sleep at once; at most 10000). */
  readonly stubSpin?: number;
  /** Overrides DEFAULT_STUB_PAUSE, the pause rounds before the stub's sched_yield rounds (0 to 100000). */
  readonly stubPause?: number;
  /** Whether stub threads are moved off the Sentry's CPU when they share it (see CpuSpreader); true if absent. */
  readonly spreadCpus?: boolean;
  /** Whether a stub is started ahead of the next new address space; true if absent. */
  readonly spareStub?: boolean;
}

/**
 * The systrap platform: application threads run in stub processes whose
 * seccomp filter turns every system call into SIGSYS; the stub's handler
 * passes the thread's state to the Sentry through shared memory and resumes
 * with what the Sentry wrote back. See README.md for the design.
 */
export class SystrapPlatform implements Platform {
  readonly name = "systrap";
  readonly userRange: AddressRange = { start: USER_START, end: Layout.STUB_BASE };
  readonly reservedRanges: readonly AddressRange[] = [{ start: Layout.STUB_BASE, end: Layout.TASK_TOP }];

  private readonly dispatcher: Dispatcher;
  private readonly spreader: CpuSpreader | null;
  private readonly processes = new Set<StubProcess>();
  /** Idle stubs for new address spaces, emptied by StubProcess.recycle. */
  private readonly pool: StubProcess[] = [];
  /** A stub started ahead of need, which may still be setting itself up. */
  private spare: StubProcess | undefined;
  private readonly spareStub: boolean;
  private readonly memoryFd: number;
  private readonly executableFd: number;
  private readonly stubSpin: number;
  private readonly stubPause: number;
  private closed = false;

  constructor(options: SystrapOptions) {
    if (process.platform !== "linux" || process.arch !== "x64") {
      throw new PlatformError(`systrap needs Linux on x86-64, not ${process.platform} on ${process.arch}`);
    }
    const spinMs = options.spinMs ?? DEFAULT_SPIN_MS;
    if (!(spinMs >= 0 && spinMs <= 1000)) throw new RangeError(`spinMs ${spinMs} is not between 0 and 1000`);
    const sleepMs = options.sleepMs ?? DEFAULT_SLEEP_MS;
    if (!(sleepMs >= 0 && sleepMs <= 1000)) throw new RangeError(`sleepMs ${sleepMs} is not between 0 and 1000`);
    const stubSpin = options.stubSpin ?? DEFAULT_STUB_SPIN;
    if (!Number.isInteger(stubSpin) || stubSpin < 0 || stubSpin > Layout.STUB_SPIN_MAX) {
      throw new RangeError(`stubSpin ${stubSpin} is not an integer between 0 and ${Layout.STUB_SPIN_MAX}`);
    }
    this.stubSpin = stubSpin;
    const stubPause = options.stubPause ?? DEFAULT_STUB_PAUSE;
    if (!Number.isInteger(stubPause) || stubPause < 0 || stubPause > Layout.STUB_PAUSE_MAX) {
      throw new RangeError(`stubPause ${stubPause} is not an integer between 0 and ${Layout.STUB_PAUSE_MAX}`);
    }
    this.stubPause = stubPause;
    this.spreader = options.spreadCpus === false ? null : new CpuSpreader();
    this.spareStub = options.spareStub !== false;
    if (!Number.isInteger(options.memoryFile.fd) || options.memoryFile.fd < 0) {
      throw new RangeError(`memory file descriptor ${options.memoryFile.fd} is not valid`);
    }
    this.memoryFd = options.memoryFile.fd;
    this.dispatcher = new Dispatcher(spinMs, sleepMs);

    this.executableFd = memfdCreate("systrap-stub");
    try {
      const image = Buffer.from(STUB_ELF_BASE64, "base64");
      for (let done = 0; done < image.length; ) done += writeSync(this.executableFd, image, done);
    } catch (err) {
      closeFd(this.executableFd);
      throw err;
    }
  }

  /**
   * Runs the start-up probe (see probeSystrap) on a private memfd and
   * returns whether mseal sealed the stub's pages. Throws
   * PlatformUnavailableError with the reason when systrap cannot run here.
   */
  probe(): { sealed: boolean } {
    return probeSystrap();
  }

  newAddressSpace(): AddressSpace {
    if (this.closed) throw new PlatformError("the systrap platform is closed");
    let stub = this.pool.pop();
    while (stub !== undefined && stub.dead) stub = this.pool.pop();
    stub ??= this.takeSpare();
    if (stub === undefined) {
      stub = this.startStub();
      stub.ensureReady();
    }
    stub.startFirstThread();
    // The next new address space (a shell's fork, then its execve) finds
    // a stub that started meanwhile, instead of waiting for one to start.
    // Without one, it starts its own, and fails if the host refuses.
    if (this.spareStub && this.pool.length === 0 && this.spare === undefined) {
      try {
        this.spare = this.startStub();
      } catch {
        this.spare = undefined;
      }
    }
    return new SystrapAddressSpace(stub, this.userRange, (released) => this.takeBack(released));
  }

  /** Returns the spare stub once it is ready, or undefined if there is none or it failed to start. */
  private takeSpare(): StubProcess | undefined {
    const spare = this.spare;
    this.spare = undefined;
    if (spare === undefined) return undefined;
    try {
      spare.ensureReady();
      return spare;
    } catch {
      return undefined;
    }
  }

  private startStub(): StubProcess {
    const stub = new StubProcess({
      executable: `/proc/self/fd/${this.executableFd}`,
      memoryFd: this.memoryFd,
      stubSpin: this.stubSpin,
      stubPause: this.stubPause,
    });
    this.processes.add(stub);
    stub.onWake = () => this.dispatcher.collect(stub);
    stub.onDeath = () => {
      this.processes.delete(stub);
      if (this.spare === stub) this.spare = undefined;
      const pooled = this.pool.indexOf(stub);
      if (pooled >= 0) this.pool.splice(pooled, 1);
      this.dispatcher.processDied(stub);
    };
    return stub;
  }

  /** Keeps the stub of a released address space for the next one if it can be emptied, and kills it otherwise. */
  private takeBack(stub: StubProcess): void {
    if (!this.closed && this.pool.length < STUB_POOL_SIZE && stub.recycle(this.userRange.start)) {
      this.pool.push(stub);
      return;
    }
    stub.kill("its address space was released");
  }

  newContext(): Context {
    if (this.closed) throw new PlatformError("the systrap platform is closed");
    return new SystrapContext(this.dispatcher, this.spreader);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stub of [...this.processes]) stub.kill("the platform was closed");
    closeFd(this.executableFd);
  }
}
