import {
  FP_XSTATE_MAGIC2,
  FP_XSTATE_MAGIC2_SIZE,
  FXSAVE_SIZE,
  FXSAVE_SW_RESERVED,
  initialFxsave,
  Registers,
  USER_CS,
  USER_DS,
  USER_EFLAGS,
  USER_REGS_SIZE,
  UserRegsOffset,
  XFEATURE_MASK_FPSSE,
  XSAVE_HEADER_END,
  xsaveLayout,
} from "@sandbox/abi";
import type { AddressSpace, Context, Trap } from "@sandbox/platform";
import { ControlRegion } from "./ControlRegion";
import type { CpuSpreader } from "./CpuSpreader";
import { decodeTrap, LOST_TRAP } from "./decodeTrap";
import type { Dispatcher, PendingRun } from "./Dispatcher";
import { futexWait, futexWake, tgkill } from "./host.native";
import type { StubProcess } from "./StubProcess";
import { Layout } from "./stub/image.generated";
import { SystrapAddressSpace } from "./SystrapAddressSpace";

const SIGUSR2 = 12;
/** Sleep between checks in `waitSync`; the stub does not wake the futex it leaves. */
const WAIT_SLICE_NS = 200_000;
/** Returns the size of the XSAVE image that the software-reserved bytes of `image` describe, or undefined for a bare FXSAVE image. */
function xsaveSizeOf(image: Uint8Array): number | undefined {
  const size = xsaveLayout(image)?.size;
  return size !== undefined && size >= XSAVE_HEADER_END ? size : undefined;
}
const INTERRUPT_TRAP: Trap = Object.freeze({ kind: "interrupt" });

/** The slot of a stub process that contains a context's FPU state. */
interface FpHome {
  readonly process: StubProcess;
  readonly slot: number;
  /** The process's generation when the state was saved there. */
  readonly generation: number;
}

/** The slot a context owns in one stub process, in that process's generation. */
interface OwnedSlot {
  readonly index: number;
  readonly generation: number;
}

/**
 * One application thread under systrap. In each address space it runs in,
 * the context owns one slot, and so one stub thread, for as long as it
 * lives. Several contexts run at once on their own slots.
 *
 * Registers are copied into the slot before each switch and back after each
 * trap. The FPU/XSAVE state stays in the slot it was saved to, and is copied
 * only when the Sentry reads `fpState` or the context moves to another
 * address space.
 */
export class SystrapContext implements Context {
  readonly regs = new Registers();

  private readonly slots = new Map<StubProcess, OwnedSlot>();
  private readonly fp = new Uint8Array(Layout.SLOT_FPU_CAPACITY);
  private fpSize = 0;
  private fpHome: FpHome | null = null;
  /** Whether `fp` contains the current state (read by the Sentry, maybe changed). */
  private fpLoaded = false;
  private run: PendingRun | null = null;
  /** The trap of the last completed switch, for `waitSync`. */
  private lastTrap: Trap | null = null;
  private interruptPending = false;
  private released = false;

  /** When the spreader last moved this context's stub thread (performance.now()). */
  private lastCpuMove = -Infinity;

  constructor(
    private readonly dispatcher: Dispatcher,
    /** Moves the stub threads off the Sentry's CPU; null leaves them where the host puts them. */
    private readonly spreader: CpuSpreader | null,
  ) {
    this.regs.setNumber(UserRegsOffset.cs, USER_CS);
    this.regs.setNumber(UserRegsOffset.ss, USER_DS);
    this.regs.setNumber(UserRegsOffset.eflags, USER_EFLAGS);
  }

  /**
   * The thread's FPU and extended state in the XSAVE layout the kernel puts
   * in signal frames: the legacy FXSAVE area, then the XSAVE header and
   * components. It is empty for a context that never ran, which starts with
   * the initial FPU state. Read and change it between switches only.
   */
  get fpState(): Uint8Array {
    this.loadFp();
    return this.fp.subarray(0, this.fpSize);
  }

  /**
   * Returns a copy of the state at the last trap as the kernel put it in the
   * stub's signal frame, without FP_XSTATE_MAGIC2. A context that never ran
   * gets the initial bare FXSAVE image.
   */
  readFpState(): Uint8Array {
    this.loadFp();
    if (this.fpSize < FXSAVE_SIZE) return initialFxsave();
    const size = this.xsaveSize();
    if (size === undefined) {
      const state = this.fp.slice(0, FXSAVE_SIZE);
      state.fill(0, FXSAVE_SW_RESERVED, FXSAVE_SIZE);
      return state;
    }
    return this.fp.slice(0, size);
  }

  /**
   * Replaces the state that the next switch loads with an image from
   * readFpState, or with a bare FXSAVE image, whose other components start
   * in their initial state. The kernel checks the image when it loads it
   * (a reserved MXCSR bit ends the thread with SIGSEGV, as on Linux).
   */
  writeFpState(state: Uint8Array): void {
    this.loadFp();
    if (state.length === FXSAVE_SIZE) {
      const size = this.xsaveSize();
      if (size === undefined) {
        // A bare FXSAVE image (no XSAVE magic in its software-reserved
        // bytes) makes rt_sigreturn load x87 and SSE and reset the rest.
        this.fp.set(state);
        this.fp.fill(0, FXSAVE_SW_RESERVED, FXSAVE_SIZE);
        this.fpSize = FXSAVE_SIZE;
        return;
      }
      // Keep the kernel's software-reserved bytes and the second magic
      // number. XSTATE_BV with only x87 and SSE resets the other components.
      this.fp.set(state.subarray(0, FXSAVE_SW_RESERVED));
      this.fp.fill(0, FXSAVE_SIZE, size);
      new DataView(this.fp.buffer, FXSAVE_SIZE, 8).setBigUint64(0, XFEATURE_MASK_FPSSE, true);
      return;
    }
    const size = xsaveSizeOf(state);
    if (size !== state.length || size + FP_XSTATE_MAGIC2_SIZE > this.fp.length) {
      throw new RangeError(`FPU state must be a ${FXSAVE_SIZE}-byte FXSAVE image or an XSAVE image from readFpState, got ${state.length} bytes`);
    }
    this.fp.set(state);
    new DataView(this.fp.buffer, size, FP_XSTATE_MAGIC2_SIZE).setUint32(0, FP_XSTATE_MAGIC2, true);
    this.fpSize = size + FP_XSTATE_MAGIC2_SIZE;
  }

  /** Returns the size of the XSAVE image in `fp` without the second magic number, or undefined for a bare FXSAVE image. */
  private xsaveSize(): number | undefined {
    if (this.fpSize <= FXSAVE_SIZE) return undefined;
    const size = xsaveSizeOf(this.fp);
    return size !== undefined && size + FP_XSTATE_MAGIC2_SIZE <= this.fpSize ? size : undefined;
  }

  switchTo(as: AddressSpace): Promise<Trap> {
    if (this.released) return Promise.reject(new Error("switchTo on a released context"));
    if (this.run) return Promise.reject(new Error("switchTo on a context that is already running"));
    if (!(as instanceof SystrapAddressSpace)) {
      return Promise.reject(new TypeError("systrap contexts run only in systrap address spaces"));
    }
    if (this.interruptPending) {
      this.interruptPending = false;
      return Promise.resolve(INTERRUPT_TRAP);
    }

    const process = as.process;
    let index = this.slotIn(process);
    if (index === undefined) {
      for (const old of [...this.slots.keys()]) if (this.slotIn(old) === undefined) this.slots.delete(old);
      index = process.acquireSlot();
      if (index < 0) return Promise.resolve(LOST_TRAP);
      this.slots.set(process, { index, generation: process.generation });
    }
    if (process.dead) return Promise.resolve(LOST_TRAP);

    const c = process.control;
    const slot = ControlRegion.slotOffset(index);
    c.bytes.set(this.regs.bytes, slot + Layout.SLOT_REGS);
    this.placeFp(process, slot);
    process.handMapsTo(slot);
    if (process.dead) return Promise.resolve(LOST_TRAP);
    c.store(slot + Layout.SLOT_SENTRY_WAITING, Layout.WAITING_NONE);

    return new Promise<Trap>((resolve) => {
      const run = new SlotRun(this, process, index, resolve);
      this.run = run;

      c.exchange(slot + Layout.SLOT_STATE, Layout.STATE_RUN);
      if (c.load(slot + Layout.SLOT_STUB_SLEEPING) !== 0) futexWake(c.address + slot + Layout.SLOT_STATE, 1);
      this.dispatcher.start(run);
    });
  }

  /** Ends `run`, the switch in progress, with the trap its slot reports. */
  completeRun(run: SlotRun): Trap {
    const { process, slot } = run;
    this.run = null;
    process.slotTrapped(slot);
    const trap = this.finishRun(process, slot);
    this.lastTrap = trap;
    if (!process.dead && this.spreader !== null) {
      this.lastCpuMove = this.spreader.observe(process.tids[run.index], process.control.load(slot + Layout.SLOT_CPU) >>> 0, this.lastCpuMove);
    }
    return trap;
  }

  /**
   * Waits, blocking the event loop, until the switch in progress traps, and
   * returns its trap; returns null after `timeoutMs`. For the start-up
   * probe, whose caller cannot wait for a promise. Call it right after
   * `switchTo`, whose promise then settles with the same trap.
   */
  waitSync(timeoutMs: number): Trap | null {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const run = this.run;
      if (!run) return this.lastTrap;
      if (performance.now() > deadline) return null;
      this.dispatcher.collect(run.process);
      const index = this.slotIn(run.process);
      if (this.run && index !== undefined && !run.process.dead) {
        const state = run.process.control.address + ControlRegion.slotOffset(index) + Layout.SLOT_STATE;
        futexWait(state, Layout.STATE_RUN, WAIT_SLICE_NS);
      }
    }
  }

  interrupt(): void {
    const run = this.run;
    if (!run) {
      this.interruptPending = true;
      return;
    }
    const index = this.slotIn(run.process);
    if (index === undefined || run.process.dead) return;
    // A signal that lands while the thread is already in the stub stays
    // pending and interrupts the next switch instead, as the interface allows.
    tgkill(run.process.pid, run.process.tids[index], SIGUSR2);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.run) {
      this.dispatcher.forget(this.run);
      this.run = null;
      // The slot's thread still runs application code; its process keeps the
      // slot until the address space goes.
      return;
    }
    for (const process of this.slots.keys()) {
      const index = this.slotIn(process);
      if (index !== undefined) process.releaseSlot(index);
    }
    this.slots.clear();
    this.fpHome = null;
  }

  /** Returns the slot this context owns in `process`, unless the process died or serves another address space now. */
  private slotIn(process: StubProcess): number | undefined {
    const owned = this.slots.get(process);
    return owned !== undefined && !process.dead && owned.generation === process.generation ? owned.index : undefined;
  }

  private finishRun(process: StubProcess, slot: number): Trap {
    if (process.dead) return LOST_TRAP;
    const c = process.control;
    this.regs.bytes.set(c.bytes.subarray(slot + Layout.SLOT_REGS, slot + Layout.SLOT_REGS + USER_REGS_SIZE));
    this.fpHome = { process, slot, generation: process.generation };
    this.fpLoaded = false;
    return decodeTrap(c, slot);
  }

  /** Copies the FPU state from its home slot into `fp`, once per trap. */
  private loadFp(): void {
    if (this.fpLoaded) return;
    this.fpLoaded = true;
    const home = this.fpHome;
    if (!home || home.process.dead || home.generation !== home.process.generation) {
      // The state went with its process; a context moves to another address
      // space only in execve, which starts with the initial FPU state anyway.
      this.fpSize = 0;
      return;
    }
    const c = home.process.control;
    const size = c.load(home.slot + Layout.SLOT_FPU_SIZE) >>> 0;
    this.fpSize = size <= Layout.SLOT_FPU_CAPACITY ? size : 0;
    this.fp.set(c.bytes.subarray(home.slot + Layout.SLOT_FPU, home.slot + Layout.SLOT_FPU + this.fpSize));
  }

  /** Puts the FPU state into `slot` unless it is there already. */
  private placeFp(process: StubProcess, slot: number): void {
    if (!this.fpLoaded) {
      const home = this.fpHome;
      if (home && home.process === process && home.slot === slot && home.generation === process.generation) return;
      this.loadFp();
    }
    const c = process.control;
    c.bytes.set(this.fp.subarray(0, this.fpSize), slot + Layout.SLOT_FPU);
    c.store(slot + Layout.SLOT_FPU_SIZE, this.fpSize);
    this.fpHome = { process, slot, generation: process.generation };
    this.fpLoaded = false;
  }
}

/** One switch of a context into its slot, as the Dispatcher waits for it. */
class SlotRun implements PendingRun {
  /** Byte offset of the slot in the control region. */
  readonly slot: number;

  constructor(
    private readonly context: SystrapContext,
    readonly process: StubProcess,
    readonly index: number,
    private readonly resolve: (trap: Trap) => void,
  ) {
    this.slot = ControlRegion.slotOffset(index);
  }

  trapped(): boolean {
    return this.process.dead || this.process.control.load(this.slot + Layout.SLOT_STATE) === Layout.STATE_TRAPPED;
  }

  arm(): boolean {
    const { process, slot } = this;
    if (process.dead) return true;
    const c = process.control;
    c.exchange(slot + Layout.SLOT_SENTRY_WAITING, Layout.WAITING_SOCKET);
    if (c.load(slot + Layout.SLOT_STATE) === Layout.STATE_TRAPPED) {
      c.store(slot + Layout.SLOT_SENTRY_WAITING, Layout.WAITING_NONE);
      return true;
    }
    process.arm();
    return false;
  }

  disarm(): void {
    this.process.disarm();
    if (!this.process.dead) this.process.control.store(this.slot + Layout.SLOT_SENTRY_WAITING, Layout.WAITING_NONE);
  }

  sleep(timeoutNs: number): boolean {
    const { process, slot } = this;
    if (process.dead) return true;
    const c = process.control;
    // The stub sets STATE_TRAPPED before it reads SENTRY_WAITING, and the
    // futex sleeps only while the state is still STATE_RUN: no wake-up is lost.
    c.store(slot + Layout.SLOT_SENTRY_WAITING, Layout.WAITING_FUTEX);
    futexWait(c.address + slot + Layout.SLOT_STATE, Layout.STATE_RUN, timeoutNs);
    c.store(slot + Layout.SLOT_SENTRY_WAITING, Layout.WAITING_NONE);
    return process.dead || c.load(slot + Layout.SLOT_STATE) === Layout.STATE_TRAPPED;
  }

  complete(): void {
    this.resolve(this.context.completeRun(this));
  }
}
