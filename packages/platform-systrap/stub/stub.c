/*
 * Set-up, seccomp filters and signal handler of a systrap stub.
 *
 * Built freestanding (no libc) by stub/build.mjs and linked at STUB_BASE.
 * The stub has no writable data of its own: everything it keeps lives in the
 * control region, which the application can write too, so nothing read from
 * there decides which host system call the stub may make. The seccomp
 * filters below decide that.
 */
#include "layout.h"
#include "sys.h"

/* Every symbol is local to the stub, so code reaches it without a GOT. */
#pragma GCC visibility push(hidden)

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef int s32;
typedef unsigned long u64;
typedef long s64;

/* struct sigcontext of x86-64 (uapi asm/sigcontext.h). */
struct sigcontext {
	u64 r8, r9, r10, r11, r12, r13, r14, r15;
	u64 rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	u16 cs, gs, fs, ss;
	u64 err, trapno, oldmask, cr2;
	u64 fpstate;
	u64 reserved[8];
};

struct stack {
	u64 sp;
	s32 flags;
	s32 pad;
	u64 size;
};

struct ucontext {
	u64 flags;
	u64 link;
	struct stack stack;
	struct sigcontext mcontext;
	u64 sigmask;
};

struct siginfo {
	s32 signo;
	s32 errno_;
	s32 code;
	s32 pad;
	u64 addr;
	s32 syscall;
	u32 arch;
};

struct kernel_sigaction {
	void *handler;
	u64 flags;
	void (*restorer)(void);
	u64 mask;
};

struct sock_filter {
	u16 code;
	u8 jt;
	u8 jf;
	u32 k;
};

struct sock_fprog {
	u16 len;
	struct sock_filter *filter;
};

/* Offsets into struct user_regs_struct, the layout of SLOT_REGS. */
enum {
	R_R15, R_R14, R_R13, R_R12, R_RBP, R_RBX, R_R11, R_R10, R_R9, R_R8,
	R_RAX, R_RCX, R_RDX, R_RSI, R_RDI, R_ORIG_RAX, R_RIP, R_CS, R_EFLAGS,
	R_RSP, R_SS, R_FS_BASE, R_GS_BASE, R_DS, R_ES, R_FS, R_GS,
};

#define SA_SIGINFO 0x4
#define SA_ONSTACK 0x08000000
#define SA_RESTORER 0x04000000
#define SIG_IGN ((void *)1)
#define SYS_SECCOMP 1
#define PR_SET_PDEATHSIG 1
#define PR_SET_NAME 15
#define PR_SET_NO_NEW_PRIVS 38
#define USER_CS 0x33
#define USER_DS 0x2b
#define FP_XSTATE_MAGIC1 0x46505853u
#define FXSAVE_SIZE 512
#define SW_RESERVED 464

#define BIT(sig) (1ul << ((sig) - 1))
/* Signals that report to the Sentry: synchronous ones and the interrupt. */
#define SYNC_SIGNALS (BIT(SIGSYS) | BIT(SIGSEGV) | BIT(SIGBUS) | BIT(SIGILL) | BIT(SIGTRAP) | BIT(SIGFPE))
#define EXECUTOR_MASK (~SYNC_SIGNALS)
#define APPLICATION_MASK (~(SYNC_SIGNALS | BIT(SIGUSR2)))

extern char stub_text_end[];
extern char stub_bootstrap_return[];
extern void stub_restorer(void);
extern void stub_bootstrap(void);

static inline s64 syscall6(s64 nr, u64 a, u64 b, u64 c, u64 d, u64 e, u64 f)
{
	register u64 r10 __asm__("r10") = d;
	register u64 r8 __asm__("r8") = e;
	register u64 r9 __asm__("r9") = f;
	s64 ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#define syscall3(nr, a, b, c) syscall6(nr, (u64)(a), (u64)(b), (u64)(c), 0, 0, 0)
#define syscall4(nr, a, b, c, d) syscall6(nr, (u64)(a), (u64)(b), (u64)(c), (u64)(d), 0, 0)

static __attribute__((noreturn)) void die(int status)
{
	for (;;)
		syscall3(SYS_exit_group, status, 0, 0);
}

/* The compiler may call these for structure copies; they must not use SSE. */
void *memcpy(void *dst, const void *src, u64 n)
{
	void *d = dst;
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
	return dst;
}

void *memset(void *dst, int c, u64 n)
{
	void *d = dst;
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

static inline u32 load32(const u8 *p)
{
	return __atomic_load_n((const u32 *)p, __ATOMIC_SEQ_CST);
}

static inline u32 exchange32(u8 *p, u32 v)
{
	return __atomic_exchange_n((u32 *)p, v, __ATOMIC_SEQ_CST);
}

static inline void store32(u8 *p, u32 v)
{
	__atomic_store_n((u32 *)p, v, __ATOMIC_RELEASE);
}

static inline void store64(u8 *p, u64 v)
{
	*(volatile u64 *)p = v;
}

static inline u64 load64(const u8 *p)
{
	return *(const volatile u64 *)p;
}

/* ---- seccomp filters ---- */

#define BPF_LD_W_ABS 0x20
#define BPF_JEQ_K 0x15
#define BPF_JGE_K 0x35
#define BPF_JSET_K 0x45
#define BPF_RET_K 0x06
#define STMT(code, k) { code, 0, 0, k }
#define JUMP(code, k, jt, jf) { code, jt, jf, k }

#define SECCOMP_RET_KILL_PROCESS 0x80000000u
#define SECCOMP_RET_TRAP 0x00030000u
#define SECCOMP_RET_ALLOW 0x7fff0000u
#define AUDIT_ARCH_X86_64 0xc000003eu

/* Offsets in struct seccomp_data. */
#define D_NR 0
#define D_ARCH 4
#define D_IP_LO 8
#define D_IP_HI 12
#define D_ARG_LO(i) (16 + 8 * (i))
#define D_ARG_HI(i) (20 + 8 * (i))

#define STUB_BASE_HI 0x7fc0u
#define STUB_TEXT_END_LO 0x00100000u

#define RET_ALLOW STMT(BPF_RET_K, SECCOMP_RET_ALLOW)
#define RET_TRAP STMT(BPF_RET_K, SECCOMP_RET_TRAP)
#define RET_KILL STMT(BPF_RET_K, SECCOMP_RET_KILL_PROCESS)

/* With the system call number loaded: allow `nr` outright. */
#define ALLOW_NR(nr) JUMP(BPF_JEQ_K, nr, 0, 1), RET_ALLOW

/*
 * A rule with `checks` argument checks: when the number is `nr`, every check
 * must pass (then allow) or the process is killed. Each check is two
 * instructions, and its `after` argument is the number of checks after it.
 */
#define RULE(nr, checks) STMT(BPF_LD_W_ABS, D_NR), JUMP(BPF_JEQ_K, nr, 0, 2 * (checks) + 2)
#define RULE_END RET_KILL, RET_ALLOW
#define CHECK_EQ(off, value, after) \
	STMT(BPF_LD_W_ABS, off), JUMP(BPF_JEQ_K, value, (after) ? 0 : 1, 2 * (after))
#define CHECK_CLEAR(off, bits, after) \
	STMT(BPF_LD_W_ABS, off), JUMP(BPF_JSET_K, bits, 2 * (after), (after) ? 0 : 1)
#define CHECK_BELOW(off, value, after) \
	STMT(BPF_LD_W_ABS, off), JUMP(BPF_JGE_K, value, 2 * (after), (after) ? 0 : 1)

/*
 * The filter of the whole stub process. The application's system calls all
 * trap. From the stub's own code only the calls the stub makes are allowed,
 * and only with the arguments it uses. The application can jump into the
 * stub's code with registers of its choosing, so each rule here must be safe
 * to give to the application itself.
 */
static const struct sock_filter process_filter[] = {
	STMT(BPF_LD_W_ABS, D_ARCH),
	JUMP(BPF_JEQ_K, AUDIT_ARCH_X86_64, 1, 0),
	RET_KILL,
	STMT(BPF_LD_W_ABS, D_IP_HI),
	JUMP(BPF_JEQ_K, STUB_BASE_HI, 1, 0),
	RET_TRAP,
	STMT(BPF_LD_W_ABS, D_IP_LO),
	JUMP(BPF_JGE_K, STUB_TEXT_END_LO, 0, 1),
	RET_TRAP,

	STMT(BPF_LD_W_ABS, D_NR),
	ALLOW_NR(SYS_rt_sigreturn),
	ALLOW_NR(SYS_munmap),
	ALLOW_NR(SYS_sigaltstack),
	ALLOW_NR(SYS_sched_yield),
	ALLOW_NR(SYS_exit),
	ALLOW_NR(SYS_exit_group),

	/* futex: FUTEX_WAIT or FUTEX_WAKE, nothing that requeues or takes PI locks */
	RULE(SYS_futex, 1),
	CHECK_CLEAR(D_ARG_LO(1), ~1u, 0),
	RULE_END,

	/* write: only to the wake socket */
	RULE(SYS_write, 1),
	CHECK_EQ(D_ARG_LO(0), WAKE_FD, 0),
	RULE_END,

	/*
	 * mmap: a shared fixed mapping of the memory file below STUB_BASE,
	 * read/write/exec bits only. A range from below STUB_BASE that reaches
	 * past it would replace sealed pages, which the kernel refuses.
	 */
	RULE(SYS_mmap, 6),
	CHECK_BELOW(D_ARG_HI(0), STUB_BASE_HI, 5),
	CHECK_EQ(D_ARG_LO(4), MEMORY_FD, 4),
	CHECK_EQ(D_ARG_LO(3), MAP_SHARED | MAP_FIXED, 3),
	CHECK_EQ(D_ARG_HI(3), 0, 2),
	CHECK_CLEAR(D_ARG_LO(2), ~7u, 1),
	CHECK_EQ(D_ARG_HI(2), 0, 0),
	RULE_END,

	/* mprotect: read/write/exec bits only */
	RULE(SYS_mprotect, 2),
	CHECK_CLEAR(D_ARG_LO(2), ~7u, 1),
	CHECK_EQ(D_ARG_HI(2), 0, 0),
	RULE_END,

	/* clone: a thread of this process, nothing else */
	RULE(SYS_clone, 2),
	CHECK_EQ(D_ARG_LO(0), STUB_CLONE_FLAGS, 1),
	CHECK_EQ(D_ARG_HI(0), 0, 0),
	RULE_END,

	/* seccomp: SECCOMP_SET_MODE_FILTER without flags, so no listener descriptor */
	RULE(SYS_seccomp, 2),
	CHECK_EQ(D_ARG_LO(0), 1, 1),
	CHECK_EQ(D_ARG_LO(1), 0, 0),
	RULE_END,

	RET_TRAP,
};

/*
 * The filter every application thread adds to its own before it runs any
 * application code: from the stub's code it may never clone, map, unmap,
 * protect or add filters. Only the executor thread does those.
 * Where mseal sealed the stub's code and control region, the threads get
 * thread_filter_sealed instead, which lets them map the memory file too
 * (run_slot_maps). No mapping can then replace the stub. The process
 * filter still allows only shared fixed mappings of the memory file.
 */
/* Allows every call from outside the stub's code; the process filter decides those. */
#define FROM_STUB_CODE_ONLY                          \
	STMT(BPF_LD_W_ABS, D_IP_HI),                 \
	JUMP(BPF_JEQ_K, STUB_BASE_HI, 1, 0),         \
	RET_ALLOW,                                   \
	STMT(BPF_LD_W_ABS, D_IP_LO),                 \
	JUMP(BPF_JGE_K, STUB_TEXT_END_LO, 0, 1),     \
	RET_ALLOW

static const struct sock_filter thread_filter[] = {
	FROM_STUB_CODE_ONLY,
	STMT(BPF_LD_W_ABS, D_NR),
	JUMP(BPF_JEQ_K, SYS_clone, 5, 0),
	JUMP(BPF_JEQ_K, SYS_mmap, 4, 0),
	JUMP(BPF_JEQ_K, SYS_munmap, 3, 0),
	JUMP(BPF_JEQ_K, SYS_mprotect, 2, 0),
	JUMP(BPF_JEQ_K, SYS_seccomp, 1, 0),
	RET_ALLOW,
	RET_KILL,
};

static const struct sock_filter thread_filter_sealed[] = {
	FROM_STUB_CODE_ONLY,
	STMT(BPF_LD_W_ABS, D_NR),
	JUMP(BPF_JEQ_K, SYS_clone, 4, 0),
	JUMP(BPF_JEQ_K, SYS_munmap, 3, 0),
	JUMP(BPF_JEQ_K, SYS_mprotect, 2, 0),
	JUMP(BPF_JEQ_K, SYS_seccomp, 1, 0),
	RET_ALLOW,
	RET_KILL,
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const struct sock_fprog process_filter_prog = { COUNT(process_filter), (struct sock_filter *)process_filter };

/* Referenced by name from entry.S. */
const struct sock_fprog stub_thread_filter = { COUNT(thread_filter), (struct sock_filter *)thread_filter };
const struct sock_fprog stub_thread_filter_sealed = { COUNT(thread_filter_sealed), (struct sock_filter *)thread_filter_sealed };

/* ---- set-up ---- */

static void set_handler(int sig, void *handler)
{
	struct kernel_sigaction act = {
		.handler = handler,
		.flags = SA_SIGINFO | SA_ONSTACK | SA_RESTORER,
		.restorer = stub_restorer,
		.mask = ~0ul,
	};
	if (syscall4(SYS_rt_sigaction, sig, &act, 0, 8) != 0)
		die(EXIT_SETUP_FAILED);
}

void stub_handler(int sig, struct siginfo *info, struct ucontext *uc);

/* The name of every stub thread in /proc/PID/comm (at most 15 characters). */
static const char stub_name[] = "systrap-stub";

static inline void cpuid(u32 leaf, u32 *a, u32 *b, u32 *c, u32 *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

/*
 * Finds an instruction that reads the CPU number without a system call:
 * RDPID, or else RDTSCP. Both return the TSC_AUX register, in which Linux
 * keeps the CPU number in the low 12 bits.
 */
static u32 cpu_source(void)
{
	u32 a, b, c, d;

	cpuid(0, &a, &b, &c, &d);
	if (a >= 7) {
		cpuid(7, &a, &b, &c, &d);
		if (c & (1u << 22))
			return CPU_SOURCE_RDPID;
	}
	cpuid(0x80000000u, &a, &b, &c, &d);
	if (a >= 0x80000001u) {
		cpuid(0x80000001u, &a, &b, &c, &d);
		if (d & (1u << 27))
			return CPU_SOURCE_RDTSCP;
	}
	return CPU_SOURCE_NONE;
}

/*
 * Runs once on the initial stack, before the stub has any application
 * memory: makes the stub die with the Sentry, maps the control region, installs
 * the handlers, seals the stub's own pages and installs the process filter.
 * Returns whether both seals held; the executor keeps that in a register
 * and chooses each new thread's filter by it.
 */
int stub_setup(void)
{
	s64 seal_text, seal_control;
	u64 mask = EXECUTOR_MASK;
	u8 *header = (u8 *)CONTROL_BASE;

	if (syscall3(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0) != 0)
		die(EXIT_SETUP_FAILED);
	/* The command name every stub thread inherits, so that ps and tests can find stubs. */
	if (syscall3(SYS_prctl, PR_SET_NAME, stub_name, 0) != 0)
		die(EXIT_SETUP_FAILED);
	if (syscall4(SYS_rt_sigprocmask, 2 /* SIG_SETMASK */, &mask, 0, 8) != 0)
		die(EXIT_SETUP_FAILED);
	if (syscall3(SYS_close_range, FIRST_FREE_FD, ~0u, 0) != 0)
		die(EXIT_SETUP_FAILED);
	if (syscall6(SYS_mmap, CONTROL_BASE, CONTROL_SIZE, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_FIXED_NOREPLACE, CONTROL_FD, 0) != CONTROL_BASE)
		die(EXIT_SETUP_FAILED);
	if ((u64)syscall3(SYS_getppid, 0, 0, 0) != load64(header + HDR_SENTRY_PID))
		die(EXIT_ORPHAN);

	set_handler(SIGSYS, stub_handler);
	set_handler(SIGSEGV, stub_handler);
	set_handler(SIGBUS, stub_handler);
	set_handler(SIGILL, stub_handler);
	set_handler(SIGTRAP, stub_handler);
	set_handler(SIGFPE, stub_handler);
	set_handler(SIGUSR2, stub_handler);
	{
		struct kernel_sigaction ignore = { .handler = SIG_IGN, .flags = SA_RESTORER, .restorer = stub_restorer };
		if (syscall4(SYS_rt_sigaction, SIGPIPE, &ignore, 0, 8) != 0)
			die(EXIT_SETUP_FAILED);
	}

	if (syscall6(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0) != 0)
		die(EXIT_SETUP_FAILED);

	/* Seal where the kernel can (Linux 6.10 and later); the result goes to the Sentry. */
	seal_text = syscall3(SYS_mseal, STUB_BASE, (u64)stub_text_end - STUB_BASE, 0);
	seal_control = syscall3(SYS_mseal, CONTROL_BASE, CONTROL_SIZE, 0);
	store64(header + HDR_SEAL_TEXT, seal_text);
	store64(header + HDR_SEAL_CONTROL, seal_control);

	store32(header + HDR_CPU_SOURCE, cpu_source());

	if (syscall3(SYS_seccomp, 1 /* SECCOMP_SET_MODE_FILTER */, 0, &process_filter_prog) != 0)
		die(EXIT_FILTER_FAILED);
	return seal_text == 0 && seal_control == 0;
}

/* Runs on a new thread's stack after its own filter is in place (entry.S). */
void stub_thread_main(u8 *slot)
{
	struct stack ss = { .sp = (u64)(slot + SLOT_SIGSTACK), .flags = 0, .size = SLOT_SIGSTACK_SIZE };

	if (syscall3(SYS_sigaltstack, &ss, 0, 0) != 0)
		die(EXIT_SETUP_FAILED);
	stub_bootstrap();
	die(EXIT_BAD_STACK);
}

/* ---- the signal handler ---- */

static inline u64 rdfsbase(void)
{
	u64 v;
	__asm__ volatile("rdfsbase %0" : "=r"(v));
	return v;
}

static inline u64 rdgsbase(void)
{
	u64 v;
	__asm__ volatile("rdgsbase %0" : "=r"(v));
	return v;
}

/* Takes any value; wrfsbase faults on a non-canonical one, so those become 0. */
static inline void wrfsbase(u64 v)
{
	if (v >= 0x800000000000ul)
		v = 0;
	__asm__ volatile("wrfsbase %0" : : "r"(v));
}

static inline void wrgsbase(u64 v)
{
	if (v >= 0x800000000000ul)
		v = 0;
	__asm__ volatile("wrgsbase %0" : : "r"(v));
}

/* Size of the XSAVE image the kernel put in a frame, from its software-reserved bytes. */
static u32 frame_fpu_size(const u8 *fpstate)
{
	u32 size;

	if (!fpstate)
		return 0;
	if (*(const u32 *)(fpstate + SW_RESERVED) != FP_XSTATE_MAGIC1)
		return FXSAVE_SIZE;
	size = *(const u32 *)(fpstate + SW_RESERVED + 4);
	if (size < FXSAVE_SIZE || size > SLOT_FPU_CAPACITY)
		die(EXIT_SETUP_FAILED);
	return size;
}

/*
 * The CPU this thread runs on, for the Sentry to notice that it shares a CPU
 * with this thread. The source comes from the header, which the
 * application can change: a wrong one gives a wrong number or kills the
 * stub with SIGILL, and hurts nothing outside the sandbox.
 */
static u32 current_cpu(void)
{
	u64 aux;
	u32 lo, hi, c;

	switch (load32((const u8 *)CONTROL_BASE + HDR_CPU_SOURCE)) {
	case CPU_SOURCE_RDPID:
		__asm__ volatile("rdpid %0" : "=r"(aux));
		return (u32)aux & 0xfff;
	case CPU_SOURCE_RDTSCP:
		__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(c));
		return c & 0xfff;
	default:
		return CPU_UNKNOWN;
	}
}

static void save_state(u8 *slot, int sig, const struct siginfo *info, const struct ucontext *uc)
{
	const struct sigcontext *sc = &uc->mcontext;
	u64 *r = (u64 *)(slot + SLOT_REGS);
	u32 kind;
	u32 fpu_size;

	r[R_R15] = sc->r15;
	r[R_R14] = sc->r14;
	r[R_R13] = sc->r13;
	r[R_R12] = sc->r12;
	r[R_RBP] = sc->rbp;
	r[R_RBX] = sc->rbx;
	r[R_R11] = sc->r11;
	r[R_R10] = sc->r10;
	r[R_R9] = sc->r9;
	r[R_R8] = sc->r8;
	r[R_RAX] = sc->rax;
	r[R_RCX] = sc->rcx;
	r[R_RDX] = sc->rdx;
	r[R_RSI] = sc->rsi;
	r[R_RDI] = sc->rdi;
	r[R_RIP] = sc->rip;
	r[R_CS] = USER_CS;
	r[R_EFLAGS] = sc->eflags;
	r[R_RSP] = sc->rsp;
	r[R_SS] = USER_DS;
	r[R_FS_BASE] = rdfsbase();
	r[R_GS_BASE] = rdgsbase();
	r[R_DS] = 0;
	r[R_ES] = 0;
	r[R_FS] = 0;
	r[R_GS] = 0;

	switch (sig) {
	case SIGSYS:
		kind = info->code == SYS_SECCOMP ? TRAP_SYSCALL : TRAP_INTERRUPT;
		break;
	case SIGSEGV:
	case SIGBUS:
		kind = TRAP_FAULT;
		break;
	case SIGUSR2:
		kind = TRAP_INTERRUPT;
		break;
	default:
		kind = TRAP_SIGNAL;
		break;
	}
	/* A signal some process sent (si_code <= 0) is no fault of the application. */
	if (info->code <= 0)
		kind = TRAP_INTERRUPT;
	r[R_ORIG_RAX] = kind == TRAP_SYSCALL ? (u64)(s64)info->syscall : ~0ul;

	store32(slot + SLOT_TRAP_KIND, kind);
	store32(slot + SLOT_SIGNO, sig);
	store32(slot + SLOT_CODE, info->code);
	store64(slot + SLOT_ADDR, info->addr);
	store64(slot + SLOT_ERR, sc->err);
	store64(slot + SLOT_TRAPNO, sc->trapno);
	store32(slot + SLOT_CPU, current_cpu());

	fpu_size = frame_fpu_size((const u8 *)sc->fpstate);
	if (fpu_size)
		memcpy(slot + SLOT_FPU, (const void *)sc->fpstate, fpu_size);
	store32(slot + SLOT_FPU_SIZE, fpu_size);
}

static void restore_state(u8 *slot, struct ucontext *uc)
{
	struct sigcontext *sc = &uc->mcontext;
	const u64 *r = (const u64 *)(slot + SLOT_REGS);
	u32 want = load32(slot + SLOT_FPU_SIZE);
	u32 have = frame_fpu_size((const u8 *)sc->fpstate);

	sc->r15 = r[R_R15];
	sc->r14 = r[R_R14];
	sc->r13 = r[R_R13];
	sc->r12 = r[R_R12];
	sc->rbp = r[R_RBP];
	sc->rbx = r[R_RBX];
	sc->r11 = r[R_R11];
	sc->r10 = r[R_R10];
	sc->r9 = r[R_R9];
	sc->r8 = r[R_R8];
	sc->rax = r[R_RAX];
	sc->rcx = r[R_RCX];
	sc->rdx = r[R_RDX];
	sc->rsi = r[R_RSI];
	sc->rdi = r[R_RDI];
	sc->rip = r[R_RIP];
	sc->eflags = r[R_EFLAGS];
	sc->rsp = r[R_RSP];
	sc->cs = USER_CS;
	sc->ss = USER_DS;
	sc->fs = 0;
	sc->gs = 0;
	wrfsbase(r[R_FS_BASE]);
	wrgsbase(r[R_GS_BASE]);

	/*
	 * No saved FPU state (a new context) means the initial one: a frame
	 * without fpstate makes rt_sigreturn reset the FPU. The frame's image of
	 * the previous context is cleared, since a recycled stub serves another
	 * process. A saved state must fit the frame's own area; the kernel
	 * checks its contents.
	 */
	if (want == 0 || have == 0) {
		if (have)
			memset((void *)sc->fpstate, 0, have);
		sc->fpstate = 0;
	} else
		memcpy((void *)sc->fpstate, slot + SLOT_FPU, want < have ? want : have);

	uc->sigmask = APPLICATION_MASK;
}

/*
 * Wakes the Sentry if it stopped spinning for this slot: from its futex
 * wait on the slot's state word, or from its event loop through the wake
 * socket.
 */
static void wake_sentry(u8 *slot, u64 index)
{
	u8 byte = (u8)index;

	switch (exchange32(slot + SLOT_SENTRY_WAITING, WAITING_NONE)) {
	case WAITING_NONE:
		break;
	case WAITING_FUTEX:
		syscall4(SYS_futex, slot + SLOT_STATE, FUTEX_WAKE, 1, 0);
		break;
	default:
		syscall3(SYS_write, WAKE_FD, &byte, 1);
		break;
	}
}

/*
 * Waits until the Sentry hands the slot back with STATE_RUN. It first spins
 * for the number of rounds the Sentry put in the header, giving up the CPU
 * in each round: where the Sentry waits for the same core, sched_yield lets
 * it run at once, and on an idle core it returns at once. Then it sleeps on
 * the slot's futex.
 */
static void wait_for_run(u8 *slot)
{
	u32 pause = load32((const u8 *)CONTROL_BASE + HDR_STUB_PAUSE);
	u32 spin = load32((const u8 *)CONTROL_BASE + HDR_STUB_SPIN);
	u32 state;
	u32 i;

	if (pause > STUB_PAUSE_MAX)
		pause = STUB_PAUSE_MAX;
	for (i = 0; i < pause; i++) {
		if (load32(slot + SLOT_STATE) == STATE_RUN)
			return;
		__builtin_ia32_pause();
	}
	if (spin > STUB_SPIN_MAX)
		spin = STUB_SPIN_MAX;
	for (i = 0; i < spin; i++) {
		if (load32(slot + SLOT_STATE) == STATE_RUN)
			return;
		syscall3(SYS_sched_yield, 0, 0, 0);
	}
	for (;;) {
		exchange32(slot + SLOT_STUB_SLEEPING, 1);
		state = load32(slot + SLOT_STATE);
		if (state == STATE_RUN)
			break;
		syscall4(SYS_futex, slot + SLOT_STATE, FUTEX_WAIT, state, 0);
	}
	store32(slot + SLOT_STUB_SLEEPING, 0);
}

/*
 * Makes the mappings the Sentry left in the slot with the run, so that a
 * fault is served without a round trip through the executor. Each value is
 * read once, then checked as the executor checks its requests. A mapping
 * the host refuses ends the process, as a refused executor request does.
 * Only threads of a sealed stub get here with a count (the Sentry writes
 * none otherwise); elsewhere the thread filter would kill the process.
 */
static void run_slot_maps(u8 *slot)
{
	u32 count = load32(slot + SLOT_MAP_COUNT);
	const u8 *op = slot + SLOT_MAP_OPS;
	u32 i;

	if (count == 0)
		return;
	if (count > SLOT_MAP_MAX)
		die(EXIT_MAP_FAILED);
	for (i = 0; i < count; i++, op += SLOT_MAP_OP_SIZE) {
		u64 addr = load64(op);
		u64 len = load64(op + 8);
		u64 prot = load64(op + 16) & (PROT_READ | PROT_WRITE | 4);
		u64 offset = load64(op + 24);

		if (addr + len < addr || addr + len > STUB_BASE)
			die(EXIT_MAP_FAILED);
		if ((u64)syscall6(SYS_mmap, addr, len, prot, MAP_SHARED | MAP_FIXED, MEMORY_FD, offset) != addr)
			die(EXIT_MAP_FAILED);
	}
	store32(slot + SLOT_MAP_COUNT, 0);
}

/*
 * Whether this trap is a new thread entering the handler for the first time
 * (stub_bootstrap on the slot's thread stack), rather than a system call of
 * the application. The application can imitate all of it; it then only
 * restarts itself from the state the Sentry last gave it.
 */
static int is_bootstrap(const u8 *slot, int sig, const struct siginfo *info, const struct ucontext *uc)
{
	u64 sp = uc->mcontext.rsp;

	return sig == SIGSYS && info->addr == (u64)stub_bootstrap_return && info->syscall == SYS_getpid &&
	       sp > (u64)slot + SLOT_FPU + SLOT_FPU_CAPACITY && sp <= (u64)slot + SLOT_THREAD_STACK_TOP;
}

/*
 * The handler of every signal the stub reports. It runs on the slot's signal
 * stack, and the stub dies if it finds itself anywhere else (the application
 * changed the stack). It saves the trapped state into the slot and hands the
 * slot to the Sentry. When the slot comes back, it returns into the
 * application with the state the slot then contains.
 *
 * NOTE: other application threads can write this stack while the handler
 * waits. That can redirect this thread within the stub's code, where the
 * filters still limit it to the calls listed in process_filter.
 */
void stub_handler(int sig, struct siginfo *info, struct ucontext *uc)
{
	u64 sp = (u64)__builtin_frame_address(0);
	u64 index;
	u8 *slot;

	if (sp < SLOTS_BASE || sp >= SLOTS_BASE + (u64)MAX_THREADS * SLOT_SIZE)
		die(EXIT_BAD_STACK);
	index = (sp - SLOTS_BASE) >> SLOT_SHIFT;
	slot = (u8 *)SLOTS_BASE + (index << SLOT_SHIFT);
	if (sp < (u64)slot + SLOT_SIGSTACK)
		die(EXIT_BAD_STACK);

	if (!is_bootstrap(slot, sig, info, uc)) {
		save_state(slot, sig, info, uc);
		exchange32(slot + SLOT_STATE, STATE_TRAPPED);
		wake_sentry(slot, index);
	}
	wait_for_run(slot);
	run_slot_maps(slot);
	restore_state(slot, uc);
}
