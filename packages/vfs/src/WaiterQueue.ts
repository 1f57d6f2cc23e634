import { PollEvents } from "@sandbox/abi";

/** Events that poll(2) reports whether or not they were requested. */
export const ALWAYS_POLLED = PollEvents.POLLERR | PollEvents.POLLHUP;

/** Readiness of a regular file, always ready to read and write (Linux's DEFAULT_POLLMASK). */
export const DEFAULT_READINESS =
  PollEvents.POLLIN | PollEvents.POLLOUT | PollEvents.POLLRDNORM | PollEvents.POLLWRNORM;

interface WaiterEntry {
  readonly mask: number;
  readonly waiter: () => void;
}

/**
 * The waiters of one file, each waiting for some poll events. It backs
 * `FileDescriptionImpl.watch`: the file calls `notify` after each change of
 * state with the events that may have become ready.
 *
 * A waiter is one-shot: `notify` removes it before calling it, so it runs at
 * most once. Waiters run synchronously inside `notify`, in the order they
 * were added, and may add or remove waiters. A waiter that throws stops the
 * ones after it from running in that `notify` call, so waiters must not throw.
 */
export class WaiterQueue {
  private readonly entries = new Set<WaiterEntry>();

  /**
   * Adds `waiter` for the events in `mask` (POLLERR and POLLHUP always count)
   * and returns a function that removes it. Removing twice is harmless.
   */
  add(mask: number, waiter: () => void): () => void {
    const entry: WaiterEntry = { mask: mask | ALWAYS_POLLED, waiter };
    this.entries.add(entry);
    return () => {
      this.entries.delete(entry);
    };
  }

  /** Wakes and removes every waiter whose mask has one of `events`. */
  notify(events: number): void {
    const woken: WaiterEntry[] = [];
    for (const entry of this.entries) {
      if ((entry.mask & events) !== 0) {
        woken.push(entry);
      }
    }
    for (const entry of woken) {
      this.entries.delete(entry);
    }
    for (const entry of woken) {
      entry.waiter();
    }
  }

  /** Number of registered waiters. */
  get size(): number {
    return this.entries.size;
  }
}
