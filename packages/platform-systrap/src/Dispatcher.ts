import { schedYield } from "./host.native";
import type { StubProcess } from "./StubProcess";

/**
 * Time the Sentry spins for a trap without calling sched_yield, in
 * milliseconds: long enough for a stub on another CPU to complete a system
 * call's round trip.
 */
const TIGHT_SPIN_MS = 0.005;

/** One switch into the application that has not come back yet. */
export interface PendingRun {
  readonly process: StubProcess;
  /** Returns true once the stub has handed the slot back; cheap enough for a spin loop. */
  trapped(): boolean;
  /**
   * Announces that the Sentry now sleeps on the wake socket for this run.
   * Returns true if the run trapped meanwhile (then nothing is announced).
   */
  arm(): boolean;
  /** Withdraws `arm` (the stub may still write one byte; that is harmless). */
  disarm(): void;
  /**
   * Blocks the Sentry's thread on the slot's futex until the run traps or
   * `timeoutNs` pass, and returns whether it trapped. The stub wakes the
   * futex itself, without the event loop.
   */
  sleep(timeoutNs: number): boolean;
  /** Settles the run's promise; called once. */
  complete(): void;
}

/**
 * Waits for the traps of all running contexts of one platform.
 *
 * Policy, in three steps after each switch:
 *
 * 1. Spin for up to `spinMs`, checking every running context and calling
 *    sched_yield between rounds, and hand back as soon as any of them
 *    trapped. The yield matters when the stub thread waits for the Sentry's
 *    core (a loaded or single-core host): it then runs at once instead of
 *    after the spin.
 * 2. If exactly one context runs, block on its slot's futex for up to
 *    `sleepMs`. The stub wakes it directly, which is much faster than a
 *    wake-up through the event loop. The event loop is blocked meanwhile,
 *    for at most `sleepMs`.
 * 3. Arm every running context: its stub, on its next trap, writes a byte to
 *    its process's wake socket, which Node polls without blocking.
 *
 * The stub side spins for the rounds in HDR_STUB_SPIN (also yielding), then
 * sleeps on the slot's futex. A busy application thus gets its results
 * while both sides still spin, and an idle one costs no CPU once the spins
 * end.
 *
 * NOTE: step 2 is skipped while several contexts run (it would need
 * futex_waitv); they go from the spin straight to the wake socket.
 */
export class Dispatcher {
  private readonly running = new Set<PendingRun>();
  private readonly armed = new Set<PendingRun>();
  private respinScheduled = false;

  constructor(
    /** How long the Sentry spins for a trap, in milliseconds. */
    readonly spinMs: number,
    /** How long the Sentry then blocks on the futex of a lone running context, in milliseconds. */
    readonly sleepMs: number,
  ) {}

  /** Adds a run that was just started, and spins for traps. */
  start(run: PendingRun): void {
    this.running.add(run);
    this.spin();
  }

  /** Removes a run without completing it (its context is gone). */
  forget(run: PendingRun): void {
    if (this.armed.delete(run)) run.disarm();
    this.running.delete(run);
  }

  /** Completes every run of `process` that has trapped; the wake socket calls this. */
  collect(process?: StubProcess): number {
    let done = 0;
    for (const run of this.running) {
      if (process !== undefined && run.process !== process) continue;
      if (run.trapped()) {
        this.finish(run);
        done++;
      }
    }
    return done;
  }

  /** Completes every run of a process that died; their `trapped` reports what happened. */
  processDied(process: StubProcess): void {
    for (const run of this.running) {
      if (run.process === process) this.finish(run);
    }
  }

  private spin(): void {
    const runs = [...this.running];
    // First without giving up the CPU, because a stub on another CPU traps
    // again within a few microseconds.
    const tight = performance.now() + TIGHT_SPIN_MS;
    do {
      for (let i = 0; i < 64; i++) if (this.poll(runs)) return;
    } while (performance.now() < tight);
    const deadline = performance.now() + this.spinMs;
    do {
      for (let i = 0; i < 16; i++) {
        if (this.poll(runs)) return;
        schedYield();
      }
    } while (performance.now() < deadline);
    if (this.sleepMs > 0 && runs.length === 1 && this.armed.size === 0) {
      const run = runs[0];
      if (run.sleep(this.sleepMs * 1e6)) {
        this.finish(run);
        return;
      }
    }
    for (const run of runs) {
      if (this.armed.has(run)) continue;
      if (run.arm()) this.finish(run);
      else this.armed.add(run);
    }
  }

  /**
   * Completes the runs of `runs` that trapped and returns whether any did.
   * Then it also schedules a respin for the other runs, so that they are
   * spun for or armed even if no new switch comes.
   */
  private poll(runs: readonly PendingRun[]): boolean {
    let done = false;
    for (const run of runs) {
      if (run.trapped()) {
        this.finish(run);
        done = true;
      }
    }
    if (done) this.scheduleRespin();
    return done;
  }

  private scheduleRespin(): void {
    if (this.respinScheduled || this.running.size === this.armed.size) return;
    this.respinScheduled = true;
    setImmediate(() => {
      this.respinScheduled = false;
      if (this.running.size > this.armed.size) this.spin();
    });
  }

  private finish(run: PendingRun): void {
    if (this.armed.delete(run)) run.disarm();
    this.running.delete(run);
    run.complete();
  }
}
