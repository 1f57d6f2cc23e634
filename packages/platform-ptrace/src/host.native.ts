// Host system calls the ptrace platform needs, bound through koffi. This is
// the only file of the package that touches native code; every function here
// takes and returns plain numbers and typed arrays.
import koffi from "koffi";

const libc = koffi.load("libc.so.6");

const ptraceWithBuffer = libc.func("long ptrace(long request, int pid, uintptr_t addr, _Inout_ uint8_t *data)");
const ptraceWithValue = libc.func("long ptrace(long request, int pid, uintptr_t addr, uintptr_t data)");
const waitpidNative = libc.func("int waitpid(int pid, _Out_ int *status, int options)");
const killNative = libc.func("int kill(int pid, int sig)");
const tgkillNative = libc.func("int tgkill(int tgid, int tid, int sig)");
const fcntlNative = libc.func("int fcntl(int fd, int cmd, int arg)");
const closeNative = libc.func("int close(int fd)");
const memfdCreateNative = libc.func("int memfd_create(const char *name, unsigned int flags)");
const spawnNative = libc.func(
  "int posix_spawn(_Out_ int *pid, const char *path, uint8_t *fileActions, uint8_t *attr, const char **argv, const char **envp)",
);
const fileActionsInit = libc.func("int posix_spawn_file_actions_init(_Inout_ uint8_t *fileActions)");
const fileActionsDestroy = libc.func("int posix_spawn_file_actions_destroy(_Inout_ uint8_t *fileActions)");
const fileActionsAddDup2 = libc.func("int posix_spawn_file_actions_adddup2(_Inout_ uint8_t *fileActions, int fd, int newfd)");
const fileActionsAddClose = libc.func("int posix_spawn_file_actions_addclose(_Inout_ uint8_t *fileActions, int fd)");
const fileActionsAddClosefrom = libc.func("int posix_spawn_file_actions_addclosefrom_np(_Inout_ uint8_t *fileActions, int from)");
const spawnattrInit = libc.func("int posix_spawnattr_init(_Inout_ uint8_t *attr)");
const spawnattrDestroy = libc.func("int posix_spawnattr_destroy(_Inout_ uint8_t *attr)");
const spawnattrSetflags = libc.func("int posix_spawnattr_setflags(_Inout_ uint8_t *attr, short flags)");

/** Size reserved for glibc's posix_spawn_file_actions_t and posix_spawnattr_t (80 and 336 bytes on x86-64). */
const SPAWN_STRUCT_BYTES = 512;
const POSIX_SPAWN_SETSID = 0x80;
const F_DUPFD_CLOEXEC = 1030;

/** Returns the calling thread's errno. */
export function lastErrno(): number {
  return koffi.errno();
}

/** ptrace(2) with a buffer as the data argument; returns -1 on failure. */
export function ptraceBuffer(request: number, pid: number, addr: number, data: Uint8Array): number {
  return Number(ptraceWithBuffer(request, pid, addr, data));
}

/** Bytes the XSAVE image of a thread may take: several times what the AVX-512 state needs. */
export const XSTATE_CAPACITY = 16 * 1024;
const PTRACE_GETREGSET = 0x4204;
const PTRACE_SETREGSET = 0x4205;
const NT_X86_XSTATE = 0x202;
/** Native memory that PTRACE_GETREGSET and SETREGSET read and write, with the iovec that points at it. */
let regset: { bytes: Uint8Array; iovec: Uint8Array } | undefined;

function regsetBuffer(): { bytes: Uint8Array; iovec: Uint8Array } {
  if (regset === undefined) {
    const pointer = koffi.alloc("uint8_t", XSTATE_CAPACITY);
    const iovec = new Uint8Array(16);
    new DataView(iovec.buffer).setBigUint64(0, BigInt(koffi.address(pointer)), true);
    regset = { bytes: new Uint8Array(koffi.view(pointer, XSTATE_CAPACITY)), iovec };
  }
  return regset;
}

/**
 * Copies the XSAVE image of stopped thread `tid` (PTRACE_GETREGSET,
 * NT_X86_XSTATE) into `out` and returns its length, or -1 on failure.
 */
export function getXState(tid: number, out: Uint8Array): number {
  const { bytes, iovec } = regsetBuffer();
  const view = new DataView(iovec.buffer);
  view.setBigUint64(8, BigInt(Math.min(out.length, XSTATE_CAPACITY)), true);
  if (Number(ptraceWithBuffer(PTRACE_GETREGSET, tid, NT_X86_XSTATE, iovec)) < 0) return -1;
  const length = Number(view.getBigUint64(8, true));
  out.set(bytes.subarray(0, length));
  return length;
}

/** Loads the first `length` bytes of `state`, an image from getXState, into stopped thread `tid`; returns -1 on failure. */
export function setXState(tid: number, state: Uint8Array, length: number): number {
  const { bytes, iovec } = regsetBuffer();
  if (length > XSTATE_CAPACITY) return -1;
  bytes.set(state.subarray(0, length));
  new DataView(iovec.buffer).setBigUint64(8, BigInt(length), true);
  return Number(ptraceWithBuffer(PTRACE_SETREGSET, tid, NT_X86_XSTATE, iovec));
}

/** ptrace(2) with an integer as the data argument; returns -1 on failure. */
export function ptraceValue(request: number, pid: number, addr: number, data: number): number {
  return Number(ptraceWithValue(request, pid, addr, data));
}

/** waitpid(2) for one pid; returns the pid, 0 (WNOHANG, nothing yet) or -1. */
export function waitpid(pid: number, status: Int32Array, options: number): number {
  return waitpidNative(pid, status, options);
}

/**
 * waitpid(2) on a libuv pool thread, so the event loop keeps running while
 * a tracee runs. Linux lets any thread of the tracer's process wait for it.
 */
export function waitpidAsync(pid: number, options: number): Promise<{ result: number; status: number; errno: number }> {
  const status = new Int32Array(1);
  return new Promise((resolve, reject) => {
    waitpidNative.async(pid, status, options, (error: unknown, result: number) => {
      if (error) {
        reject(error);
        return;
      }
      resolve({ result, status: status[0], errno: result < 0 ? koffi.errno() : 0 });
    });
  });
}

/** kill(2); returns 0 or -1. */
export function kill(pid: number, signal: number): number {
  return killNative(pid, signal);
}

/** tgkill(2); returns 0 or -1. */
export function tgkill(tgid: number, tid: number, signal: number): number {
  return tgkillNative(tgid, tid, signal);
}

/** Duplicates `fd` to the lowest free descriptor at or above `minimum`, close-on-exec. */
export function duplicateAtOrAbove(fd: number, minimum: number): number {
  return fcntlNative(fd, F_DUPFD_CLOEXEC, minimum);
}

/** close(2). */
export function close(fd: number): number {
  return closeNative(fd);
}

/** memfd_create(2); returns the descriptor or -1. */
export function memfdCreate(name: string, flags: number): number {
  return memfdCreateNative(name, flags);
}

/** A descriptor to place at a fixed number in the child, as dup2 would. */
export interface InheritedFd {
  readonly from: number;
  readonly to: number;
}

/**
 * Starts `path` with posix_spawn(3) in a new session, with only the listed
 * descriptors open. Returns the pid, or throws with errno on failure.
 */
export function spawn(path: string, argv: readonly string[], fds: readonly InheritedFd[]): number {
  const actions = new Uint8Array(SPAWN_STRUCT_BYTES);
  const attr = new Uint8Array(SPAWN_STRUCT_BYTES);
  fileActionsInit(actions);
  spawnattrInit(attr);
  try {
    spawnattrSetflags(attr, POSIX_SPAWN_SETSID);
    for (const { from, to } of fds) fileActionsAddDup2(actions, from, to);
    const firstFree = Math.max(...fds.map((fd) => fd.to)) + 1;
    for (let fd = 0; fd < firstFree; fd++) {
      if (!fds.some((inherited) => inherited.to === fd)) fileActionsAddClose(actions, fd);
    }
    fileActionsAddClosefrom(actions, firstFree);
    const pid = new Int32Array(1);
    const error = spawnNative(pid, path, actions, attr, [...argv, null], [null]);
    if (error !== 0) throw Object.assign(new Error(`posix_spawn ${path} failed: errno ${error}`), { errno: error });
    return pid[0];
  } finally {
    fileActionsDestroy(actions);
    spawnattrDestroy(attr);
  }
}
