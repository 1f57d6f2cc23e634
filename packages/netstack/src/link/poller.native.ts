import { writeSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { closeFd, createEventFd, koffiPath } from "./device.native";

// The worker blocks in poll(2) on the device and an eventfd. When the
// device is readable it sets state[0] to 1 and notifies the main thread,
// then waits until the main thread has drained the device and set it back
// to 0. Writing to the eventfd with state[1] set makes it exit.
const WORKER_SOURCE = `
const { workerData } = require("node:worker_threads");
const koffi = require(workerData.koffiPath);
const libc = koffi.load("libc.so.6");
const poll = libc.func("int poll(_Inout_ uint8_t *fds, unsigned long n, int timeout)");
const state = new Int32Array(workerData.shared);
const fds = new Uint8Array(16);
const dv = new DataView(fds.buffer);
dv.setInt32(0, workerData.fd, true);
dv.setInt16(4, 1, true);
dv.setInt32(8, workerData.stopFd, true);
dv.setInt16(12, 1, true);
for (;;) {
  dv.setInt16(6, 0, true);
  dv.setInt16(14, 0, true);
  const r = poll(fds, 2, -1);
  if (Atomics.load(state, 1) !== 0) break;
  if (r < 0) continue;
  if (dv.getInt16(14, true) !== 0) break;
  if (dv.getInt16(6, true) === 0) continue;
  Atomics.store(state, 0, 1);
  Atomics.notify(state, 0);
  while (Atomics.load(state, 0) === 1 && Atomics.load(state, 1) === 0) Atomics.wait(state, 0, 1, 1000);
  if (Atomics.load(state, 1) !== 0) break;
}
`;

interface AtomicsWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number): { async: boolean; value: Promise<string> | string };
}

/**
 * Readiness for a descriptor Node cannot poll itself (a TAP device, an
 * AF_PACKET socket): a worker thread blocks in poll(2) and wakes the main
 * thread through Atomics.waitAsync on shared memory. The main thread then
 * reads until EAGAIN and calls `rearm`; no frame data crosses threads.
 */
export class DevicePoller {
  private readonly shared = new SharedArrayBuffer(8);
  private readonly state = new Int32Array(this.shared);
  private readonly stopFd: number;
  private readonly worker: Worker;
  private stopped = false;

  constructor(fd: number, private readonly onReadable: () => void) {
    const stopFd = createEventFd();
    if (stopFd < 0) throw new Error(`eventfd failed: errno ${-stopFd}`);
    this.stopFd = stopFd;
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { koffiPath, fd, stopFd, shared: this.shared } });
    this.worker.on("error", () => undefined);
    this.wait();
  }

  private wait(): void {
    if (this.stopped) return;
    const r = (Atomics as unknown as AtomicsWaitAsync).waitAsync(this.state, 0, 0);
    if (r.async) {
      void (r.value as Promise<string>).then(() => this.fire());
    } else {
      queueMicrotask(() => this.fire());
    }
  }

  private fire(): void {
    if (this.stopped) return;
    this.onReadable();
  }

  /** Hands the descriptor back to the worker after it was drained to EAGAIN. */
  rearm(): void {
    if (this.stopped) return;
    Atomics.store(this.state, 0, 0);
    Atomics.notify(this.state, 0);
    this.wait();
  }

  /** Stops the worker and closes the eventfd. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    Atomics.store(this.state, 1, 1);
    Atomics.notify(this.state, 0);
    const one = Buffer.alloc(8);
    one.writeBigUInt64LE(1n);
    try {
      writeSync(this.stopFd, one);
    } catch {
      // The worker also checks state[1] within a second.
    }
    void this.worker.terminate().finally(() => closeFd(this.stopFd));
  }
}
