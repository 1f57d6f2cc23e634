import { constants } from "node:os";
import type { GoferExit, GoferProcess } from "./spawnGofer";
import { reapChild } from "./waitChild.native";

/** Returns Node's name of signal number `signal`, or null when it has none. */
function signalName(signal: number | null): NodeJS.Signals | null {
  const entry = Object.entries(constants.signals).find(([, number]) => number === signal);
  return entry === undefined ? null : (entry[0] as NodeJS.Signals);
}

/**
 * How often a running gofer is checked for its exit, in milliseconds: the
 * delay before a caching mount learns that its gofer is gone.
 */
const REAP_INTERVAL_MS = 100;

/**
 * A gofer that is a child of this process but that Node did not spawn:
 * runsc's launcher started it before it became runsc. Node reaps only its
 * own children, so this object reaps the gofer, by its pid. It polls
 * instead of listening for SIGCHLD, because then every ptrace stop of a stub
 * also interrupts runsc. With a SIGCHLD listener, a getppid call of
 * tools/bench/fixtures/getppid_loop.c under the ptrace platform took about
 * 31 us instead of 21 us (20,000 calls, one run each, 2 vCPUs). The pid
 * cannot name another process until it is reaped, which makes `kill` safe.
 *
 * Create it only for a child of this process.
 */
export class HandedOffGoferProcess implements GoferProcess {
  readonly exited: Promise<GoferExit>;
  private settle: (exit: GoferExit) => void = () => undefined;
  private ended = false;
  private readonly timer: NodeJS.Timeout;

  constructor(readonly pid: number) {
    this.exited = new Promise((resolve) => {
      this.settle = resolve;
    });
    this.timer = setInterval(() => this.reap(), REAP_INTERVAL_MS);
    // The poll must not keep this process alive, because the sandbox kills its gofer when it ends.
    this.timer.unref();
  }

  /** Reaps the gofer if it has ended, without waiting, and reports whether it has. */
  reap(): boolean {
    if (this.ended) return true;
    const result = reapChild(this.pid);
    if (result === undefined) return false;
    this.ended = true;
    clearInterval(this.timer);
    // A negative errno means that something else reaped it; how it ended is lost.
    this.settle(typeof result === "number" ? { code: null, signal: null } : { code: result.code, signal: signalName(result.signal) });
    return true;
  }

  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    if (!this.reap()) process.kill(this.pid, signal);
  }
}
