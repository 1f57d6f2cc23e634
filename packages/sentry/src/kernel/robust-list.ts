import { futexKey } from "../syscalls/futex";
import type { Task } from "./task";

const FUTEX_WAITERS = 0x8000_0000;
const FUTEX_OWNER_DIED = 0x4000_0000;
const FUTEX_TID_MASK = 0x3fff_ffff;
/** Linux stops walking a robust list after this many entries (ROBUST_LIST_LIMIT). */
const ROBUST_LIST_LIMIT = 2048;

function readPointer(task: Task, addr: number): number {
  return Number(new DataView(task.mm.copyIn(addr, 8).buffer).getBigUint64(0, true));
}

/** Marks one robust futex held by the dying `task` as OWNER_DIED and wakes a waiter. */
function releaseFutex(task: Task, addr: number): void {
  const bytes = task.mm.copyIn(addr, 4);
  const view = new DataView(bytes.buffer);
  const word = view.getUint32(0, true);
  if ((word & FUTEX_TID_MASK) !== task.tid) return;
  view.setUint32(0, ((word & FUTEX_WAITERS) | FUTEX_OWNER_DIED) >>> 0, true);
  task.mm.copyOut(addr, bytes);
  if ((word & FUTEX_WAITERS) !== 0) task.kernel.futexes.wake(futexKey(task, addr, false), 1);
}

/**
 * Walks the robust futex list of a dying thread (set_robust_list) as Linux's
 * exit_robust_list does: each futex the thread still owns gets
 * FUTEX_OWNER_DIED and one waiter is woken. A corrupt list is abandoned
 * silently, as on Linux.
 */
export function releaseRobustFutexes(task: Task): void {
  const head = task.robustList;
  const mm = task.threadGroup.mmOrUndefined;
  if (head === 0 || mm === undefined) return;
  try {
    let entry = readPointer(task, head);
    const futexOffset = Number(BigInt.asIntN(64, new DataView(mm.copyIn(head + 8, 8).buffer).getBigUint64(0, true)));
    const pending = readPointer(task, head + 16);
    for (let count = 0; entry !== head && count < ROBUST_LIST_LIMIT; count++) {
      const next = readPointer(task, entry);
      if (entry !== pending) releaseFutex(task, entry - (entry % 2) + futexOffset);
      entry = next;
    }
    if (pending !== 0) releaseFutex(task, pending - (pending % 2) + futexOffset);
  } catch {
    // An unreadable list ends the walk.
  }
}
