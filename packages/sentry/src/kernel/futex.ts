import { Errno, SyscallError } from "@sandbox/abi";

/** A task blocked in FUTEX_WAIT. */
interface FutexWaiter {
  key: string;
  readonly bitset: number;
  readonly wake: (result: number) => void;
}

/** Bitset that matches every waiter (FUTEX_BITSET_MATCH_ANY). */
export const FUTEX_BITSET_MATCH_ANY = 0xffff_ffff;

/**
 * The futex wait queues of one kernel. A key names a futex word: the
 * memory manager and address for a private futex, the memory-file offset
 * for one in shared memory.
 */
export class FutexTable {
  private readonly queues = new Map<string, FutexWaiter[]>();

  /**
   * Blocks until a wake that matches `bitset`, or until `timeoutMs` passes
   * (resolves with -ETIMEDOUT), or until `abort` fires (resolves with its value).
   */
  wait(key: string, bitset: number, timeoutMs: number | undefined, abort?: AbortSignal): Promise<number> {
    if (bitset === 0) throw new SyscallError(Errno.EINVAL);
    if (abort?.aborted) return Promise.resolve(-Errno.EINTR);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: FutexWaiter = {
        key,
        bitset,
        wake: (result) => {
          if (timer !== undefined) clearTimeout(timer);
          abort?.removeEventListener("abort", onAbort);
          resolve(result);
        },
      };
      const onAbort = () => {
        this.remove(waiter);
        waiter.wake(-Errno.EINTR);
      };
      this.enqueue(waiter);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.remove(waiter);
          waiter.wake(-Errno.ETIMEDOUT);
        }, Math.max(0, timeoutMs));
      }
      abort?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Wakes up to `count` waiters on `key` whose bitset intersects `bitset`; returns how many woke. */
  wake(key: string, count: number, bitset: number = FUTEX_BITSET_MATCH_ANY): number {
    const queue = this.queues.get(key);
    if (queue === undefined) return 0;
    let woken = 0;
    for (let i = 0; i < queue.length && woken < count; ) {
      const waiter = queue[i];
      if ((waiter.bitset & bitset) !== 0) {
        queue.splice(i, 1);
        waiter.wake(0);
        woken++;
      } else {
        i++;
      }
    }
    if (queue.length === 0) this.queues.delete(key);
    return woken;
  }

  /** Wakes up to `wakeCount` waiters on `from` and moves up to `requeueCount` more to `to`; returns the total. */
  requeue(from: string, to: string, wakeCount: number, requeueCount: number): number {
    const woken = this.wake(from, wakeCount);
    const queue = this.queues.get(from);
    if (queue === undefined) return woken;
    const moved = queue.splice(0, requeueCount);
    if (queue.length === 0) this.queues.delete(from);
    for (const waiter of moved) {
      waiter.key = to;
      this.enqueue(waiter);
    }
    return woken + moved.length;
  }

  private enqueue(waiter: FutexWaiter): void {
    const queue = this.queues.get(waiter.key);
    if (queue === undefined) this.queues.set(waiter.key, [waiter]);
    else queue.push(waiter);
  }

  private remove(waiter: FutexWaiter): void {
    const queue = this.queues.get(waiter.key);
    if (queue === undefined) return;
    const index = queue.indexOf(waiter);
    if (index >= 0) queue.splice(index, 1);
    if (queue.length === 0) this.queues.delete(waiter.key);
  }
}
