import { CPU_MASK_BYTES, currentCpu, setThreadAffinity, threadAffinity } from "./host.native";
import { Layout } from "./stub/image.generated";

/** A stub thread is moved at most this often, in milliseconds. */
const MOVE_INTERVAL_MS = 1;
/** The Sentry re-reads its own CPU after this many traps. */
const SENTRY_CPU_REFRESH = 64;

/**
 * Keeps stub threads off the CPU of the Sentry's thread.
 *
 * The stub and the Sentry spin for each other. On separate CPUs a round
 * trip takes about 3 us here. On one CPU each side has to yield the CPU to
 * the other, and a round trip takes about 9 us. Linux's load balancer
 * rarely separates two threads that both stay busy, since each looks
 * cache-hot, so a pair that once shared a CPU keeps doing so.
 *
 * Each trap reports its CPU (SLOT_CPU, read by the stub with RDPID or
 * RDTSCP). When a stub thread trapped on the Sentry's CPU, the spreader
 * narrows the thread's affinity to the other allowed CPUs, which moves it
 * at once. Then it restores the affinity the thread had. So the thread is
 * never pinned, and the scheduler stays free to move it later.
 */
export class CpuSpreader {
  /** How many times a stub thread was moved. */
  moves = 0;
  private sentryCpu = -1;
  private traps = 0;

  /**
   * Notes that the stub thread `tid` trapped on `stubCpu`, and moves it if
   * the Sentry runs there too. `lastMove` is the time of the thread's last
   * move (performance.now()); returns the time to keep for the next call.
   */
  observe(tid: number, stubCpu: number, lastMove: number): number {
    if (stubCpu === Layout.CPU_UNKNOWN || stubCpu >= CPU_MASK_BYTES * 8) return lastMove;
    if (this.traps++ % SENTRY_CPU_REFRESH === 0) this.sentryCpu = currentCpu();
    if (stubCpu !== this.sentryCpu) return lastMove;
    // The cached CPU may be stale: look again before acting.
    this.sentryCpu = currentCpu();
    if (stubCpu !== this.sentryCpu) return lastMove;
    const now = performance.now();
    if (now - lastMove < MOVE_INTERVAL_MS) return lastMove;
    if (moveOffCpu(tid, stubCpu)) this.moves++;
    return now;
  }
}

/**
 * Migrates host thread `tid` off `cpu` and gives it back the affinity it
 * had. Returns false if the thread is gone or may run on `cpu` only.
 */
export function moveOffCpu(tid: number, cpu: number): boolean {
  const allowed = threadAffinity(tid);
  if (allowed === null) return false;
  const elsewhere = allowed.slice();
  elsewhere[cpu >> 3] &= ~(1 << (cpu & 7));
  if (elsewhere.every((byte) => byte === 0)) return false;
  if (!setThreadAffinity(tid, elsewhere)) return false;
  setThreadAffinity(tid, allowed);
  return true;
}
