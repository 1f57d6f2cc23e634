import { closeSync, readSync, writeSync } from "node:fs";
import { Errno, PollEvents } from "@sandbox/abi";
import { O_CLOEXEC, O_NONBLOCK } from "../constants";
import { ALWAYS_POLLED } from "../WaiterQueue";
import { POLLFD_EVENTS, POLLFD_FD, POLLFD_REVENTS, POLLFD_SIZE, pipe2, pollAsync } from "./hostFd.native";

interface HostWatch {
  readonly fd: number;
  readonly mask: number;
  readonly waiter: () => void;
}

/**
 * Waits for readiness of host descriptors without blocking the event loop:
 * one poll(2) over every watched descriptor runs on a libuv pool thread
 * (through koffi's async calls), together with the read end of a wake-up
 * pipe. Adding or removing a watch writes a byte to that pipe, so the poll
 * returns and starts again over the new set.
 *
 * Waiters are one-shot, as in WaiterQueue: a waiter is removed when its
 * descriptor reports one of its events (POLLERR, POLLHUP and POLLNVAL
 * always count) and then called. While any watch exists, the poller keeps
 * one pool thread busy and keeps the event loop alive. When the last watch
 * goes, it closes its pipe and keeps no descriptor open.
 */
export class HostPoller {
  private readonly watches = new Set<HostWatch>();
  private wakeRead = -1;
  private wakeWrite = -1;
  private polling = false;
  private woken = false;

  /** Number of registered watches. */
  get size(): number {
    return this.watches.size;
  }

  /** Reports whether a poll is running on the pool thread. */
  get active(): boolean {
    return this.polling;
  }

  /**
   * Calls `waiter` once when host descriptor `fd` reports an event of `mask`
   * (PollEvents bits). Returns a function that removes the watch.
   */
  watch(fd: number, mask: number, waiter: () => void): () => void {
    const entry: HostWatch = { fd, mask: mask | ALWAYS_POLLED | PollEvents.POLLNVAL, waiter };
    this.watches.add(entry);
    this.restart();
    return () => {
      if (this.watches.delete(entry)) {
        this.restart();
      }
    };
  }

  /** Starts a poll over the current set, or interrupts the running one so that it starts again. */
  private restart(): void {
    if (this.polling) {
      if (!this.woken) {
        this.woken = true;
        writeSync(this.wakeWrite, WAKE_BYTE);
      }
      return;
    }
    if (this.watches.size === 0) {
      this.closeWakePipe();
      return;
    }
    this.openWakePipe();

    const events = new Map<number, number>();
    for (const entry of this.watches) {
      events.set(entry.fd, (events.get(entry.fd) ?? 0) | entry.mask);
    }
    const fds = new Uint8Array((events.size + 1) * POLLFD_SIZE);
    const view = new DataView(fds.buffer);
    view.setInt32(POLLFD_FD, this.wakeRead, true);
    view.setInt16(POLLFD_EVENTS, PollEvents.POLLIN, true);
    let offset = POLLFD_SIZE;
    for (const [fd, mask] of events) {
      view.setInt32(offset + POLLFD_FD, fd, true);
      view.setInt16(offset + POLLFD_EVENTS, mask, true);
      offset += POLLFD_SIZE;
    }

    this.polling = true;
    pollAsync(fds, events.size + 1, -1).then(
      (result) => this.finish(result === -Errno.EINTR ? 0 : result, view),
      () => this.finish(-Errno.EIO, view),
    );
  }

  /**
   * Handles the end of a poll: drains the wake-up pipe, wakes the waiters
   * whose events came, and polls again. A failed poll wakes every waiter,
   * because the waiters check readiness again and meet the error there.
   */
  private finish(result: number, view: DataView): void {
    this.polling = false;
    this.woken = false;
    this.drainWakePipe();

    if (result < 0) {
      const woken = [...this.watches];
      this.watches.clear();
      for (const entry of woken) {
        entry.waiter();
      }
    } else if (result > 0) {
      const ready = new Map<number, number>();
      for (let offset = POLLFD_SIZE; offset < view.byteLength; offset += POLLFD_SIZE) {
        const revents = view.getInt16(offset + POLLFD_REVENTS, true) & 0xffff;
        if (revents !== 0) {
          ready.set(view.getInt32(offset + POLLFD_FD, true), revents);
        }
      }
      const woken: HostWatch[] = [];
      for (const entry of this.watches) {
        if (((ready.get(entry.fd) ?? 0) & entry.mask) !== 0) {
          woken.push(entry);
        }
      }
      for (const entry of woken) {
        this.watches.delete(entry);
      }
      for (const entry of woken) {
        entry.waiter();
      }
    }
    this.restart();
  }

  private openWakePipe(): void {
    if (this.wakeRead >= 0) {
      return;
    }
    const fds = pipe2(O_CLOEXEC | O_NONBLOCK);
    if (typeof fds === "number") {
      throw new Error(`pipe2 for the host poller failed with errno ${-fds}`);
    }
    [this.wakeRead, this.wakeWrite] = fds;
  }

  private drainWakePipe(): void {
    if (this.wakeRead < 0) {
      return;
    }
    const scratch = new Uint8Array(64);
    try {
      while (readSync(this.wakeRead, scratch, 0, scratch.length, null) > 0) {
        // Keep reading until EAGAIN.
      }
    } catch {
      // EAGAIN: the pipe is empty.
    }
  }

  private closeWakePipe(): void {
    if (this.wakeRead < 0) {
      return;
    }
    closeSync(this.wakeRead);
    closeSync(this.wakeWrite);
    this.wakeRead = -1;
    this.wakeWrite = -1;
  }
}

/** The byte written to the wake-up pipe. */
const WAKE_BYTE = Uint8Array.of(1);
