// Seccomp confinement of the process that runs the Sentry. Only this file
// and threads.native.ts of the package use koffi.
import koffi from "koffi";

const libc = koffi.load("libc.so.6");
const SockFilter = koffi.struct("runsc_sock_filter", { code: "uint16", jt: "uint8", jf: "uint8", k: "uint32" });
const SockFprog = koffi.struct("runsc_sock_fprog", { len: "uint16", filter: koffi.pointer(SockFilter) });
const prctl = libc.func("int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)");
const seccompSyscall = libc.func("long syscall(long nr, unsigned int op, unsigned int flags, const runsc_sock_fprog *prog)");

const PR_SET_NO_NEW_PRIVS = 38;
const SYS_SECCOMP = 317;
const SECCOMP_SET_MODE_FILTER = 1;
const SECCOMP_FILTER_FLAG_TSYNC = 1;
const BPF_LD_W_ABS = 0x20;
const BPF_JMP_JEQ_K = 0x15;
const BPF_RET_K = 0x06;
const SECCOMP_RET_ALLOW = 0x7fff_0000;
const SECCOMP_RET_ERRNO = 0x0005_0000;
const AUDIT_ARCH_X86_64 = 0xc000_003e;
const EPERM = 1;
/** open(2), openat(2), openat2(2) and creat(2) on x86-64. */
const OPEN_SYSCALLS = [2, 257, 437, 85];

/**
 * Makes every thread of this process fail open, openat, openat2 and creat
 * with EPERM from now on (seccomp, with no_new_privs). Irreversible. Files
 * already open keep working, and other processes (gofers, stubs) are not
 * affected. Throws with the errno when the kernel refuses the filter.
 */
export function forbidHostFileOpens(): void {
  // Each JEQ on a syscall number jumps over the remaining JEQs and the ALLOW to the final ERRNO.
  const filter = [
    { code: BPF_LD_W_ABS, jt: 0, jf: 0, k: 4 }, // seccomp_data.arch
    { code: BPF_JMP_JEQ_K, jt: 1, jf: 0, k: AUDIT_ARCH_X86_64 },
    { code: BPF_RET_K, jt: 0, jf: 0, k: SECCOMP_RET_ERRNO | EPERM }, // no other ABI is used by the Sentry
    { code: BPF_LD_W_ABS, jt: 0, jf: 0, k: 0 }, // seccomp_data.nr
    ...OPEN_SYSCALLS.map((nr, index) => ({ code: BPF_JMP_JEQ_K, jt: OPEN_SYSCALLS.length - index, jf: 0, k: nr })),
    { code: BPF_RET_K, jt: 0, jf: 0, k: SECCOMP_RET_ALLOW },
    { code: BPF_RET_K, jt: 0, jf: 0, k: SECCOMP_RET_ERRNO | EPERM },
  ];
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) !== 0) throw new Error(`prctl(PR_SET_NO_NEW_PRIVS) failed: errno ${koffi.errno()}`);
  const result = seccompSyscall(SYS_SECCOMP, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, { len: filter.length, filter });
  if (result !== 0) throw new Error(`seccomp(SECCOMP_SET_MODE_FILTER) failed: errno ${koffi.errno()}`);
}

void SockFprog;
