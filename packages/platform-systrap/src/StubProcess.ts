import { Socket } from "node:net";
import { randomInt } from "node:crypto";
import { ftruncateSync } from "node:fs";
import { PlatformError } from "@sandbox/platform";
import { ControlRegion } from "./ControlRegion";
import { closeFd, dupAbove, futexWait, futexWake, mapShared, memfdCreate, reap, socketPair, spawn, type SharedMapping } from "./host.native";
import { Layout } from "./stub/image.generated";

/**
 * Rounds (a check of its slot and a sched_yield) a stub thread spins after
 * a trap before it sleeps on the slot's futex: about 0.3-0.5 ms on an idle
 * core. See README.md ("Waiting").
 */
export const DEFAULT_STUB_SPIN = 1000;
/**
 * Pause rounds a stub thread spins after a trap, before its sched_yield
 * rounds: a few microseconds, so that the reply of a Sentry on another CPU
 * reaches the stub without a system call in between. See README.md ("Waiting").
 */
export const DEFAULT_STUB_PAUSE = 200;
/** How long the Sentry spins on an executor request before it sleeps on the futex. */
const REQUEST_SPIN_MS = 0.05;
/**
 * The top of a slot's signal stack that a parked handler may use: the
 * kernel's signal frame with its XSAVE image, and the handler's own frames.
 */
const PARKED_STACK_BYTES = 16 * 1024;
/** A stub that takes longer than this to start or to complete a request is killed. */
const STUB_TIMEOUT_MS = 10_000;
/** Slices of a futex sleep, so that a stub that died is noticed. */
const FUTEX_SLICE_NS = 20_000_000;
/** Sleep between checks while a stub thread makes the mappings it was handed. */
const MAP_SETTLE_SLICE_NS = 20_000;

const EXIT_REASONS: Record<number, string> = {
  [Layout.EXIT_SETUP_FAILED]: "its set-up failed",
  [Layout.EXIT_ORPHAN]: "its parent is not this process",
  [Layout.EXIT_BAD_STACK]: "a handler ran off its signal stack",
  [Layout.EXIT_FILTER_FAILED]: "installing its seccomp filter failed",
  [Layout.EXIT_MAP_FAILED]: "a mapping it was asked for failed",
};

/** Describes a wait status for a message. */
export function describeWaitStatus(status: number): string {
  const signal = status & 0x7f;
  if (signal === 0) {
    const code = (status >> 8) & 0xff;
    return `exited with status ${code}${EXIT_REASONS[code] ? ` (${EXIT_REASONS[code]})` : ""}`;
  }
  return `was killed by signal ${signal}`;
}

/** Files a new stub process is started with. */
export interface StubFiles {
  /** Path of the stub executable, e.g. /proc/self/fd/N of a memfd holding it. */
  readonly executable: string;
  /** Descriptor of the sandbox's memory file. */
  readonly memoryFd: number;
  /** Rounds a stub thread spins after a trap before it sleeps (HDR_STUB_SPIN); DEFAULT_STUB_SPIN if absent. */
  readonly stubSpin?: number;
  /** Pause rounds a stub thread spins before its sched_yield rounds (HDR_STUB_PAUSE); DEFAULT_STUB_PAUSE if absent. */
  readonly stubPause?: number;
}

/**
 * One stub process: the host side of one address space. The constructor
 * only spawns it; ensureReady waits for it to start. Its first thread is
 * the executor: it maps, unmaps and protects ranges of the memory file and
 * starts stub threads on requests in the control region's header. Every
 * other thread runs one application thread at a time through a slot.
 */
export class StubProcess {
  readonly pid: number;
  readonly control: ControlRegion;
  /** Host thread id of the stub thread of each slot created so far. */
  readonly tids: number[] = [];
  /** Called when the stub writes to its wake socket (some slot may have trapped). */
  onWake: () => void = () => {};
  /** Called once when the stub process is found dead or is killed. */
  onDeath: () => void = () => {};
  /** The reason the process is gone; null while it runs. */
  deathReason: string | null = null;
  /**
   * Counts the address spaces this process has served. Slots and FPU state
   * that contexts remember from an earlier generation are void.
   */
  generation = 0;

  private readonly mapping: SharedMapping;
  private readonly controlFd: number;
  private readonly socket: Socket;
  private readonly freeSlots: number[] = [];
  private seq = 0;
  private armed = 0;
  /** The Sentry's last request and the executor's result, as the header should still show them. */
  private lastRequest: { op: number; args: readonly number[]; result: bigint; result2: bigint } | undefined;
  /** Header values the Sentry set or the stub found at start, restored when the process is recycled. */
  private cpuSource: number = Layout.CPU_SOURCE_NONE;
  private readonly stubSpin: number;
  private readonly stubPause: number;
  private ready = false;
  /**
   * Whether stub threads may make mappings themselves (the stub is sealed,
   * see run_slot_maps in stub.c). Read at start, before the application
   * could write the header.
   */
  private mapsInSlots = false;
  /** Mappings asked for and not yet handed to a thread or the executor: address, length, protection, offset. */
  private readonly pendingMaps: number[] = [];
  /** Slots (byte offsets) whose thread was handed mappings it may not have made yet. */
  private readonly slotsWithMaps = new Set<number>();

  constructor(files: StubFiles) {
    this.controlFd = memfdCreate("systrap-control");
    let mapping: SharedMapping | null = null;
    let fds: [number, number] | null = null;
    let memoryFd = -1;
    try {
      ftruncateSync(this.controlFd, Layout.CONTROL_SIZE);
      mapping = mapShared(this.controlFd, Layout.CONTROL_SIZE);
      this.control = new ControlRegion(mapping, mapping.address);
      this.control.set64(Layout.HDR_SENTRY_PID, BigInt(process.pid));
      this.control.store(Layout.HDR_STUB_SPIN, files.stubSpin ?? DEFAULT_STUB_SPIN);
      this.control.store(Layout.HDR_STUB_PAUSE, files.stubPause ?? DEFAULT_STUB_PAUSE);

      fds = socketPair();
      // posix_spawn's dup2 actions run in order: no source may be a later target.
      memoryFd = dupAbove(files.memoryFd, Layout.FIRST_FREE_FD);
      this.pid = spawn(files.executable, ["systrap-stub"], [
        [memoryFd, Layout.MEMORY_FD],
        [this.controlFd, Layout.CONTROL_FD],
        [fds[1], Layout.WAKE_FD],
      ]);
    } catch (err) {
      mapping?.unmap();
      closeFd(this.controlFd);
      if (fds) fds.forEach(closeFd);
      throw err instanceof PlatformError ? err : new PlatformError(`cannot start a systrap stub: ${(err as Error).message}`);
    } finally {
      if (memoryFd >= 0) closeFd(memoryFd);
    }
    this.mapping = mapping;
    closeFd(fds[1]);

    this.socket = new Socket({ fd: fds[0], readable: true, writable: false });
    this.socket.unref();
    this.socket.on("data", () => this.onWake());
    this.socket.on("error", () => this.kill("its wake socket failed"));
    this.socket.on("close", () => this.kill(null));

    this.stubSpin = files.stubSpin ?? DEFAULT_STUB_SPIN;
    this.stubPause = files.stubPause ?? DEFAULT_STUB_PAUSE;
  }

  /**
   * Waits until the stub has set itself up; it does so while the Sentry
   * goes on after the spawn. Call it before anything else. Throws
   * PlatformError, after killing the stub, if it died or did not start in time.
   */
  ensureReady(): void {
    if (this.ready) return;
    if (this.dead) throw new PlatformError(`systrap stub ${this.pid} is gone before it was used: ${this.deathReason}`);
    try {
      this.waitReady();
    } catch (err) {
      this.kill("it did not start");
      throw err;
    }
    // A spare may have died after it started, before its wake socket closed.
    const status = reap(this.pid, false);
    if (status !== null) {
      this.kill(`the stub ${describeWaitStatus(status)}`, true);
      throw new PlatformError(`systrap stub ${this.pid} ${describeWaitStatus(status)} before it was used`);
    }
    this.ready = true;
    // Written by the stub before the application could touch the header.
    this.cpuSource = this.control.load(Layout.HDR_CPU_SOURCE);
    this.mapsInSlots = this.sealed;
  }

  /** True once the process is gone (or killed); nothing may be asked of it then. */
  get dead(): boolean {
    return this.deathReason !== null;
  }

  /** Whether mseal sealed the stub's code and control region (false where the kernel lacks it). */
  get sealed(): boolean {
    return this.control.get64(Layout.HDR_SEAL_TEXT) === 0n && this.control.get64(Layout.HDR_SEAL_CONTROL) === 0n;
  }

  private waitReady(): void {
    const deadline = performance.now() + STUB_TIMEOUT_MS;
    const readyAddress = this.control.address + Layout.HDR_READY;
    while (this.control.load(Layout.HDR_READY) !== Layout.READY_MAGIC) {
      const status = reap(this.pid, false);
      if (status !== null) {
        this.deathReason = `the stub ${describeWaitStatus(status)}`;
        throw new PlatformError(`systrap stub ${this.pid} ${describeWaitStatus(status)} while starting`);
      }
      if (performance.now() > deadline) throw new PlatformError(`systrap stub ${this.pid} did not start in time`);
      futexWait(readyAddress, 0, FUTEX_SLICE_NS);
    }
  }

  /**
   * Runs operation `op` with up to four arguments in the executor, waits for
   * it and returns its result (negative errno on failure). The call is
   * synchronous because the executor completes in microseconds. A stub that
   * does not complete within STUB_TIMEOUT_MS is killed, and so is one found
   * dead; both return -ESRCH. `alwaysWake` wakes the executor's futex even
   * if the header shows that it does not sleep (the application can write that
   * flag).
   */
  request(op: number, arg0: number, arg1: number, arg2: number, arg3: number, alwaysWake = false): { result: bigint; result2: bigint } {
    const ESRCH = 3n;
    if (this.dead) return { result: -ESRCH, result2: 0n };
    const c = this.control;
    const seq = (this.seq = (this.seq + 1) | 0);

    c.store(Layout.HDR_OP, op);
    c.set64(Layout.HDR_ARG0, BigInt(arg0));
    c.set64(Layout.HDR_ARG1, BigInt(arg1));
    c.set64(Layout.HDR_ARG2, BigInt(arg2));
    c.set64(Layout.HDR_ARG3, BigInt(arg3));
    c.exchange(Layout.HDR_REQ_SEQ, seq);
    if (alwaysWake || c.load(Layout.HDR_EXEC_SLEEPING) !== 0) futexWake(c.address + Layout.HDR_REQ_SEQ, 1);

    const start = performance.now();
    while (c.load(Layout.HDR_DONE_SEQ) !== seq) {
      const now = performance.now();
      if (now - start < REQUEST_SPIN_MS) continue;
      if (now - start > STUB_TIMEOUT_MS) {
        this.kill("its executor did not answer");
        return { result: -ESRCH, result2: 0n };
      }
      c.exchange(Layout.HDR_SENTRY_WAITING, 1);
      const done = c.load(Layout.HDR_DONE_SEQ);
      if (done === seq) break;
      futexWait(c.address + Layout.HDR_DONE_SEQ, done, FUTEX_SLICE_NS);
      const status = reap(this.pid, false);
      if (status !== null) {
        this.kill(`the stub ${describeWaitStatus(status)}`, true);
        return { result: -ESRCH, result2: 0n };
      }
    }
    c.store(Layout.HDR_SENTRY_WAITING, 0);
    const reply = { result: c.get64(Layout.HDR_RESULT), result2: c.get64(Layout.HDR_RESULT2) };
    this.lastRequest = { op, args: [arg0, arg1, arg2, arg3], ...reply };
    return reply;
  }

  /**
   * Asks for a shared fixed mapping of the memory file. It is made before
   * any thread of this process runs application code again: by the next
   * thread switched in (handMapsTo), or by the executor before an unmap or
   * protect (flushMaps). A fault thus costs no round trip through the
   * executor.
   */
  queueMap(addr: number, length: number, prot: number, offset: number): void {
    if (!this.dead) this.pendingMaps.push(addr, length, prot, offset);
  }

  /**
   * Gives the thread of `slot`, about to be switched in, the queued
   * mappings to make before it returns to the application. It takes at
   * most SLOT_MAP_MAX, so older ones go through the executor first.
   * Mappings handed to other threads are waited for first, which keeps
   * the order in which they were asked for.
   */
  handMapsTo(slot: number): void {
    const c = this.control;
    if (this.slotsWithMaps.size > 0) this.settleSlotMaps();
    const pending = this.pendingMaps;
    if (pending.length === 0 || !this.mapsInSlots || this.dead) {
      this.runPendingMaps();
      c.store(slot + Layout.SLOT_MAP_COUNT, 0);
      return;
    }
    const total = pending.length / 4;
    const first = Math.max(0, total - Layout.SLOT_MAP_MAX);
    for (let i = 0; i < first && !this.dead; i++) this.runMap(pending[4 * i], pending[4 * i + 1], pending[4 * i + 2], pending[4 * i + 3]);
    for (let i = first; i < total; i++) {
      const op = slot + Layout.SLOT_MAP_OPS + (i - first) * Layout.SLOT_MAP_OP_SIZE;
      c.set64(op, BigInt(pending[4 * i]));
      c.set64(op + 8, BigInt(pending[4 * i + 1]));
      c.set64(op + 16, BigInt(pending[4 * i + 2]));
      c.set64(op + 24, BigInt(pending[4 * i + 3]));
    }
    pending.length = 0;
    c.store(slot + Layout.SLOT_MAP_COUNT, total - first);
    this.slotsWithMaps.add(slot);
  }

  /** Notes that the thread of `slot` trapped, so it has made the mappings it was handed. */
  slotTrapped(slot: number): void {
    this.slotsWithMaps.delete(slot);
  }

  /**
   * Makes every mapping asked for so far, for an unmap or protect that has
   * to come after them: waits for the threads that were handed some, then
   * has the executor make the rest.
   */
  flushMaps(): void {
    if (this.slotsWithMaps.size > 0) this.settleSlotMaps();
    this.runPendingMaps();
  }

  private runPendingMaps(): void {
    const pending = this.pendingMaps;
    for (let i = 0; i < pending.length && !this.dead; i += 4) this.runMap(pending[i], pending[i + 1], pending[i + 2], pending[i + 3]);
    pending.length = 0;
  }

  private runMap(addr: number, length: number, prot: number, offset: number): void {
    const { result } = this.request(Layout.OP_MMAP, addr, length, prot, offset);
    if (result !== 0n && !this.dead) this.kill(`mmap(0x${addr.toString(16)}, 0x${length.toString(16)}) failed with errno ${-result}`);
  }

  /**
   * Waits until every thread handed mappings has made them. Such a thread
   * is running and makes them before anything else, so this takes
   * microseconds; a stub that takes longer than STUB_TIMEOUT_MS is killed.
   */
  private settleSlotMaps(): void {
    const c = this.control;
    const deadline = performance.now() + STUB_TIMEOUT_MS;
    for (const slot of this.slotsWithMaps) {
      for (;;) {
        if (this.dead) break;
        const count = c.load(slot + Layout.SLOT_MAP_COUNT);
        if (count === 0) break;
        if (performance.now() > deadline) {
          this.kill("a stub thread did not make the mappings it was handed");
          break;
        }
        // The thread does not wake this futex; the short sleep only gives up the CPU.
        futexWait(c.address + slot + Layout.SLOT_MAP_COUNT, count, MAP_SETTLE_SLICE_NS);
        const status = reap(this.pid, false);
        if (status !== null) this.kill(`the stub ${describeWaitStatus(status)}`, true);
      }
    }
    this.slotsWithMaps.clear();
  }

  /**
   * Starts the stub thread of the first context now, unless the process
   * has one. A host that cannot start it (RLIMIT_NPROC counts threads)
   * then fails the new address space, so that fork returns EAGAIN, instead
   * of killing the new process at its first switch. Throws PlatformError
   * after killing the stub.
   */
  startFirstThread(): void {
    if (this.tids.length > 0) return;
    const slot = this.acquireSlot();
    if (slot < 0) throw new PlatformError(`systrap stub ${this.pid} could not start a thread: ${this.deathReason ?? "no slot"}`);
    this.freeSlots.push(slot);
  }

  /**
   * Returns a slot whose stub thread waits for work: a free one, or one of a
   * thread started for it now. Returns -1 if none can be had (the process
   * has MAX_THREADS threads, or is dead).
   */
  acquireSlot(): number {
    const free = this.freeSlots.pop();
    if (free !== undefined) return free;
    const expected = this.tids.length;
    if (this.dead || expected >= Layout.MAX_THREADS) return -1;

    const { result, result2 } = this.request(Layout.OP_CLONE, 0, 0, 0, 0);
    // The executor counts threads itself; if the application forged clone
    // requests, its count is ahead of ours and this process is not to be trusted.
    if (result <= 0n || result2 !== BigInt(expected)) {
      if (!this.dead) this.kill(result <= 0n ? `starting a stub thread failed (${result})` : "its thread count is off");
      return -1;
    }
    this.control.cover(ControlRegion.slotOffset(expected + 1));
    this.tids.push(Number(result));
    return expected;
  }

  /**
   * Empties the process so that it can serve another address space. The
   * Sentry checks and restores the header fields it owns. The executor
   * unmaps every application page and confirms that it started no thread
   * the Sentry does not know of. The Sentry then clears the slot's saved
   * registers and FPU state and the part of its signal stack that the
   * parked handler does not use. The stub clears the FPU image of the frame
   * on the next switch of a new context. Only a process with one stub
   * thread, parked in the stub and not running application code,
   * qualifies. Returns false otherwise, and the caller then kills it.
   */
  recycle(userStart: number): boolean {
    if (this.dead || this.armed !== 0 || this.tids.length !== 1) return false;
    const slot = ControlRegion.slotOffset(0);
    const c = this.control;
    if (c.load(slot + Layout.SLOT_STATE) === Layout.STATE_RUN) return false;
    // The application can write the header. A stub whose header does not
    // read as the Sentry's last request left it is not reused.
    if (!this.headerIntact()) return false;
    // The mappings of the old address space are not made: the executor unmaps everything below.
    this.pendingMaps.length = 0;
    this.slotsWithMaps.clear();
    // Continue with a sequence number the application cannot guess, so that
    // no request it forged earlier can pass for one of these.
    c.store(Layout.HDR_STUB_SPIN, this.stubSpin);
    c.store(Layout.HDR_STUB_PAUSE, this.stubPause);
    c.store(Layout.HDR_CPU_SOURCE, this.cpuSource);
    c.store(Layout.HDR_SENTRY_WAITING, 0);
    this.seq = randomInt(1, 2 ** 30);
    const unmapped = this.request(Layout.OP_MUNMAP, userStart, Layout.STUB_BASE - userStart, 0, 0, true);
    if (unmapped.result !== 0n || this.dead) return false;
    // Threads the application made the executor start would serve the next process.
    const counted = this.request(Layout.OP_COUNT, 0, 0, 0, 0, true);
    if (counted.result !== 0n || counted.result2 !== BigInt(this.tids.length) || this.dead) return false;
    const bytes = c.bytes;
    bytes.fill(0, slot + Layout.SLOT_REGS, slot + Layout.SLOT_FPU + Layout.SLOT_FPU_CAPACITY);
    bytes.fill(0, slot + Layout.SLOT_SIGSTACK, slot + Layout.SLOT_SIGSTACK + Layout.SLOT_SIGSTACK_SIZE - PARKED_STACK_BYTES);
    this.generation++;
    this.freeSlots.length = 0;
    this.freeSlots.push(0);
    return true;
  }

  /** Reports whether the header still reads as the Sentry and the executor last wrote it. */
  private headerIntact(): boolean {
    const c = this.control;
    const last = this.lastRequest;
    return (
      c.load(Layout.HDR_REQ_SEQ) === this.seq &&
      c.load(Layout.HDR_DONE_SEQ) === this.seq &&
      c.load(Layout.HDR_STUB_SPIN) === this.stubSpin &&
      c.load(Layout.HDR_STUB_PAUSE) === this.stubPause &&
      c.load(Layout.HDR_CPU_SOURCE) === this.cpuSource &&
      (last === undefined ||
        (c.load(Layout.HDR_OP) === last.op &&
          c.get64(Layout.HDR_ARG0) === BigInt(last.args[0]) &&
          c.get64(Layout.HDR_ARG1) === BigInt(last.args[1]) &&
          c.get64(Layout.HDR_ARG2) === BigInt(last.args[2]) &&
          c.get64(Layout.HDR_ARG3) === BigInt(last.args[3]) &&
          c.get64(Layout.HDR_RESULT) === last.result &&
          c.get64(Layout.HDR_RESULT2) === last.result2))
    );
  }

  /** Gives a slot back; its thread stays parked in the stub for the next context. */
  releaseSlot(index: number): void {
    if (!this.dead) this.freeSlots.push(index);
  }

  /** Keeps Node's event loop alive while some context waits on the wake socket. */
  arm(): void {
    if (this.armed++ === 0 && !this.dead) this.socket.ref();
  }

  /** Undoes one `arm`. */
  disarm(): void {
    if (--this.armed === 0 && !this.dead) this.socket.unref();
  }

  /**
   * Kills the process with SIGKILL, reaps it and frees its resources.
   * `reason` is recorded for the contexts that were running in it; null
   * means it died on its own. Idempotent.
   */
  kill(reason: string | null, reaped = false): void {
    if (this.dead) return;
    let status: number | null = null;
    try {
      process.kill(this.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
    if (!reaped) status = reap(this.pid, true);
    this.deathReason = reason ?? (status !== null ? `the stub ${describeWaitStatus(status)}` : "the stub died");
    this.pendingMaps.length = 0;
    this.slotsWithMaps.clear();
    this.socket.destroy();
    this.mapping.unmap();
    closeFd(this.controlFd);
    this.onDeath();
  }
}
