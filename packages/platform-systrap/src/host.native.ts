import koffi from "koffi";

/**
 * The host calls the systrap platform makes from the Sentry's process, and
 * nothing else. Every pointer stays in this file: callers get descriptors,
 * numbers and ArrayBuffers over shared memory.
 */

const libc = koffi.load("libc.so.6");

const memfd_create = libc.func("int memfd_create(const char *name, unsigned int flags)");
const mmap = libc.func("void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)");
const munmap = libc.func("int munmap(void *addr, size_t length)");
const fcntl = libc.func("int fcntl(int fd, int cmd, int arg)");
const close = libc.func("int close(int fd)");
const socketpair = libc.func("int socketpair(int domain, int type, int protocol, _Out_ int *sv)");
const waitpid = libc.func("int waitpid(int pid, _Out_ int *status, int options)");
const file_actions_init = libc.func("int posix_spawn_file_actions_init(void *actions)");
const file_actions_adddup2 = libc.func("int posix_spawn_file_actions_adddup2(void *actions, int fd, int newfd)");
const file_actions_destroy = libc.func("int posix_spawn_file_actions_destroy(void *actions)");
const spawnattr_init = libc.func("int posix_spawnattr_init(void *attr)");
const spawnattr_setflags = libc.func("int posix_spawnattr_setflags(void *attr, short flags)");
const spawnattr_setsigmask = libc.func("int posix_spawnattr_setsigmask(void *attr, const void *mask)");
const spawnattr_setsigdefault = libc.func("int posix_spawnattr_setsigdefault(void *attr, const void *mask)");
const spawnattr_destroy = libc.func("int posix_spawnattr_destroy(void *attr)");
const posix_spawn = libc.func(
  "int posix_spawn(_Out_ int *pid, const char *path, void *actions, void *attr, const char **argv, const char **envp)",
);
// syscall(2) is variadic; a fixed prototype is fine for it on x86-64, since
// glibc's syscall() moves its six integer arguments into place unchanged.
const syscall4 = libc.func("long syscall(long nr, intptr_t a, intptr_t b, intptr_t c, void *d)");
const syscall3 = libc.func("long syscall(long nr, intptr_t a, intptr_t b, intptr_t c)");
const sched_yield = libc.func("int sched_yield(void)");
const sched_getcpu = libc.func("int sched_getcpu(void)");
const sched_getaffinity = libc.func("int sched_getaffinity(int pid, size_t size, _Out_ void *mask)");
const sched_setaffinity = libc.func("int sched_setaffinity(int pid, size_t size, const void *mask)");

const SYS_futex = 202;
const SYS_tgkill = 234;
const FUTEX_WAIT = 0;
const FUTEX_WAKE = 1;
const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;
const MAP_FAILED = -1n;
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0x800;
const SOCK_CLOEXEC = 0x80000;
const MFD_CLOEXEC = 1;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const F_DUPFD_CLOEXEC = 1030;
const WNOHANG = 1;
const WALL = 0x40000000;
const EINTR = 4;
const EAGAIN = 11;
const ETIMEDOUT = 110;

/** A host call failed; `errno` is the positive Linux errno value. */
export class HostError extends Error {
  constructor(
    readonly call: string,
    readonly errno: number,
  ) {
    super(`${call} failed with errno ${errno}`);
    this.name = "HostError";
  }
}

function check(call: string, result: number | bigint): void {
  if (Number(result) < 0) throw new HostError(call, koffi.errno());
}

/** Creates a memfd with close-on-exec set and returns its descriptor. */
export function memfdCreate(name: string): number {
  const fd = memfd_create(name, MFD_CLOEXEC) as number;
  check("memfd_create", fd);
  return fd;
}

/** A MAP_SHARED, read/write mapping of a file in the Sentry's process. */
export interface SharedMapping {
  /** The mapping's address in the Sentry's process, for futex calls. */
  readonly address: number;
  /**
   * Returns an ArrayBuffer over the first `length` bytes of the mapping, not
   * usable after `unmap`. V8 counts its length as external memory, which
   * brings its garbage collections forward, so callers view no more than
   * they use.
   */
  view(length: number): ArrayBuffer;
  /** Removes the mapping. */
  unmap(): void;
}

/** Maps the first `length` bytes of `fd` shared and read/write. */
export function mapShared(fd: number, length: number): SharedMapping {
  const pointer = mmap(null, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const address = koffi.address(pointer);
  if (address === BigInt.asUintN(64, MAP_FAILED)) throw new HostError("mmap", koffi.errno());
  let mapped = true;
  return {
    address: Number(address),
    view(viewLength: number) {
      if (!mapped || !Number.isInteger(viewLength) || viewLength <= 0 || viewLength > length) {
        throw new RangeError(`cannot view ${viewLength} bytes of a ${length}-byte mapping${mapped ? "" : " that was unmapped"}`);
      }
      return koffi.view(pointer, viewLength);
    },
    unmap() {
      if (!mapped) return;
      mapped = false;
      munmap(pointer, length);
    },
  };
}

/** Duplicates `fd` onto the lowest free descriptor at or above `min`, close-on-exec. */
export function dupAbove(fd: number, min: number): number {
  const copy = fcntl(fd, F_DUPFD_CLOEXEC, min) as number;
  check("fcntl", copy);
  return copy;
}

/** Closes a descriptor this module handed out; errors are ignored. */
export function closeFd(fd: number): void {
  close(fd);
}

/** Creates a connected pair of non-blocking, close-on-exec Unix stream sockets. */
export function socketPair(): [number, number] {
  const fds = new Int32Array(2);
  check("socketpair", socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) as number);
  return [fds[0], fds[1]];
}

/**
 * Starts `path` with posix_spawn: descriptor `from` becomes `to` for each
 * pair of `fds`, every signal is blocked and has its default action.
 * Returns the pid. No child_process: libuv must not reap this child.
 */
export function spawn(path: string, argv: readonly string[], fds: ReadonlyArray<readonly [number, number]>): number {
  const actions = Buffer.alloc(256);
  const attr = Buffer.alloc(512);
  const allSignals = Buffer.alloc(128, 0xff);
  const pid = new Int32Array(1);

  let err = file_actions_init(actions) as number;
  if (err !== 0) throw new HostError("posix_spawn_file_actions_init", err);
  err = spawnattr_init(attr) as number;
  if (err !== 0) {
    file_actions_destroy(actions);
    throw new HostError("posix_spawnattr_init", err);
  }
  try {
    for (const [from, to] of fds) {
      err = file_actions_adddup2(actions, from, to) as number;
      if (err !== 0) throw new HostError("posix_spawn_file_actions_adddup2", err);
    }
    spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    spawnattr_setsigmask(attr, allSignals);
    spawnattr_setsigdefault(attr, allSignals);
    err = posix_spawn(pid, path, actions, attr, [...argv, null], [null]) as number;
    if (err !== 0) throw new HostError("posix_spawn", err);
    return pid[0];
  } finally {
    file_actions_destroy(actions);
    spawnattr_destroy(attr);
  }
}

/** Wakes up to `count` waiters on the futex word at `address` (a shared mapping). */
export function futexWake(address: number, count: number): void {
  syscall4(SYS_futex, address, FUTEX_WAKE, count, null);
}

/** The struct timespec of futexWait, reused: each JS thread has its own module state. */
const futexTimeout = new BigInt64Array(2);

/**
 * Sleeps while the 32-bit word at `address` equals `expected`, at most
 * `timeoutNs`. Returns false on timeout, true otherwise (woken, value changed,
 * or interrupted by a signal).
 */
export function futexWait(address: number, expected: number, timeoutNs: number): boolean {
  const timeout = futexTimeout;
  timeout[0] = BigInt(Math.floor(timeoutNs / 1e9));
  timeout[1] = BigInt(Math.floor(timeoutNs % 1e9));
  const result = Number(syscall4(SYS_futex, address, FUTEX_WAIT, expected | 0, timeout));
  if (result === 0) return true;
  const errno = koffi.errno();
  if (errno === ETIMEDOUT) return false;
  if (errno === EAGAIN || errno === EINTR) return true;
  throw new HostError("futex", errno);
}

/** Gives the CPU to another runnable thread of the host, if one waits for it. */
export function schedYield(): void {
  sched_yield();
}

/** Returns the CPU the calling thread runs on, or -1 if the host cannot tell. */
export function currentCpu(): number {
  return sched_getcpu() as number;
}

/** Bytes of a CPU mask: room for 1024 CPUs, as glibc's cpu_set_t. */
export const CPU_MASK_BYTES = 128;

/** Returns the CPUs host thread `tid` may run on, one bit per CPU, or null if it is gone. */
export function threadAffinity(tid: number): Uint8Array | null {
  const mask = new Uint8Array(CPU_MASK_BYTES);
  return (sched_getaffinity(tid, CPU_MASK_BYTES, mask) as number) === 0 ? mask : null;
}

/** Restricts host thread `tid` to the CPUs of `mask`, moving it at once if it runs elsewhere; false on failure. */
export function setThreadAffinity(tid: number, mask: Uint8Array): boolean {
  if (mask.length !== CPU_MASK_BYTES) throw new RangeError(`a CPU mask has ${CPU_MASK_BYTES} bytes, not ${mask.length}`);
  return (sched_setaffinity(tid, CPU_MASK_BYTES, mask) as number) === 0;
}

/** Sends `signo` to thread `tid` of process `pid`; false if it no longer exists. */
export function tgkill(pid: number, tid: number, signo: number): boolean {
  return Number(syscall3(SYS_tgkill, pid, tid, signo)) === 0;
}

/**
 * Reaps child `pid`. Returns its wait status, or null if it has not exited
 * yet and `block` is false.
 */
export function reap(pid: number, block: boolean): number | null {
  const status = new Int32Array(1);
  for (;;) {
    const result = waitpid(pid, status, WALL | (block ? 0 : WNOHANG)) as number;
    if (result === pid) return status[0];
    if (result === 0) return null;
    const errno = koffi.errno();
    if (errno !== EINTR) throw new HostError("waitpid", errno);
  }
}
