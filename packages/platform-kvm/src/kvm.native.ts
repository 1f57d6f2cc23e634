// Host calls the KVM platform needs, bound through koffi. This is the only
// file of the package that touches native code or raw pointers: mappings are
// returned as typed-array views, and every other argument is a number or a
// typed array.
import koffi from "koffi";

const libc = koffi.load("libc.so.6");

const openNative = libc.func("int open(const char *path, int flags)");
const closeNative = libc.func("int close(int fd)");
const ioctlBuffer = libc.func("int ioctl(int fd, unsigned long request, _Inout_ uint8_t *arg)");
const ioctlValue = libc.func("int ioctl(int fd, unsigned long request, unsigned long arg)");
const mmapNative = libc.func("void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)");
const munmapNative = libc.func("int munmap(void *addr, size_t length)");
const gettidNative = libc.func("int gettid()");
const sigmaskNative = libc.func("int pthread_sigmask(int how, const uint8_t *set, _Out_ uint8_t *old)");
const sigtimedwaitNative = libc.func("int sigtimedwait(const uint8_t *set, uint8_t *info, const uint8_t *timeout)");
const timerCreateNative = libc.func("int timer_create(int clockid, const uint8_t *event, _Out_ uint8_t *timer)");
const timerSettimeNative = libc.func("int timer_settime(uintptr_t timer, int flags, const uint8_t *value, uint8_t *old)");
const timerDeleteNative = libc.func("int timer_delete(uintptr_t timer)");

const O_RDWR = 2;
const O_CLOEXEC = 0x80000;
const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 0x01;
const MAP_ANONYMOUS = 0x20;
const MAP_NORESERVE = 0x4000;
const SIG_BLOCK = 0;
const SIGSET_BYTES = 128;
const CLOCK_MONOTONIC = 1;
const SIGEV_THREAD_ID = 4;

/** Returns the calling thread's errno. */
export function lastErrno(): number {
  return koffi.errno();
}

/** Opens `path` read-write and close-on-exec; returns the descriptor or -1. */
export function openReadWrite(path: string): number {
  return openNative(path, O_RDWR | O_CLOEXEC);
}

/** close(2). */
export function close(fd: number): number {
  return closeNative(fd);
}

/** ioctl(2) whose argument is a buffer the kernel reads or fills; returns the result or -1. */
export function ioctlWithBuffer(fd: number, request: number, arg: Uint8Array): number {
  return ioctlBuffer(fd, request, arg);
}

/** ioctl(2) whose argument is an integer; returns the result or -1. */
export function ioctlWithValue(fd: number, request: number, arg: number): number {
  return ioctlValue(fd, request, arg);
}

/** A shared mapping in the Sentry's process, seen from JS as bytes. */
export interface HostMapping {
  /** The mapping's address in this process, for KVM_SET_USER_MEMORY_REGION. */
  readonly address: bigint;
  /** The mapped bytes; only `viewLength` of them are visible. */
  readonly bytes: Uint8Array;
  /** Unmaps it; the bytes must not be used afterwards. */
  unmap(): void;
}

function mapShared(length: number, fd: number, flags: number, viewLength: number): HostMapping | undefined {
  const pointer = mmapNative(null, length, PROT_READ | PROT_WRITE, MAP_SHARED | flags, fd, 0);
  const address = BigInt(koffi.address(pointer));
  if (address === 0xffff_ffff_ffff_ffffn) return undefined;
  const bytes = viewLength === 0 ? new Uint8Array(0) : new Uint8Array(koffi.view(pointer, viewLength));
  return { address, bytes, unmap: () => void munmapNative(pointer, length) };
}

/** Maps `length` bytes of `fd` from offset 0, shared and without reserving swap; exposes the first `viewLength` bytes. */
export function mapFile(fd: number, length: number, viewLength: number): HostMapping | undefined {
  return mapShared(length, fd, MAP_NORESERVE, viewLength);
}

/** Maps `length` bytes of zeroed shared anonymous memory and exposes all of it. */
export function mapAnonymous(length: number): HostMapping | undefined {
  return mapShared(length, -1, MAP_ANONYMOUS, length);
}

/** gettid(2) of the calling thread (the JS main thread for every synchronous call here). */
export function gettid(): number {
  return gettidNative();
}

/** Blocks `signo` in the calling thread; returns the kernel's 8-byte signal mask as it was before. */
export function blockSignal(signo: number): Uint8Array {
  const set = new Uint8Array(SIGSET_BYTES);
  set[(signo - 1) >> 3] |= 1 << ((signo - 1) & 7);
  const old = new Uint8Array(SIGSET_BYTES);
  if (sigmaskNative(SIG_BLOCK, set, old) !== 0) throw new Error("pthread_sigmask failed");
  return old.slice(0, 8);
}

/** Takes a pending `signo` off the calling thread without waiting; returns true if one was pending. */
export function consumeSignal(signo: number): boolean {
  const set = new Uint8Array(SIGSET_BYTES);
  set[(signo - 1) >> 3] |= 1 << ((signo - 1) & 7);
  const zero = new Uint8Array(16);
  return sigtimedwaitNative(set, null, zero) === signo;
}

/**
 * Creates a CLOCK_MONOTONIC timer that sends `signo` to thread `tid` every
 * `periodNs` nanoseconds; returns the timer id or throws.
 */
export function startThreadTimer(signo: number, tid: number, periodNs: number): bigint {
  const event = new DataView(new ArrayBuffer(64));
  event.setInt32(8, signo, true);
  event.setInt32(12, SIGEV_THREAD_ID, true);
  event.setInt32(16, tid, true);
  const timer = new Uint8Array(8);
  if (timerCreateNative(CLOCK_MONOTONIC, new Uint8Array(event.buffer), timer) !== 0) {
    throw new Error(`timer_create failed: errno ${koffi.errno()}`);
  }
  const id = new DataView(timer.buffer).getBigUint64(0, true);
  const spec = new DataView(new ArrayBuffer(32));
  const seconds = Math.floor(periodNs / 1e9);
  const nanoseconds = periodNs % 1e9;
  for (const at of [0, 16]) {
    spec.setBigInt64(at, BigInt(seconds), true);
    spec.setBigInt64(at + 8, BigInt(nanoseconds), true);
  }
  if (timerSettimeNative(id, 0, new Uint8Array(spec.buffer), null) !== 0) {
    timerDeleteNative(id);
    throw new Error(`timer_settime failed: errno ${koffi.errno()}`);
  }
  return id;
}

/** Deletes a timer made by startThreadTimer. */
export function stopThreadTimer(id: bigint): void {
  timerDeleteNative(id);
}
