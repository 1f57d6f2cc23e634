/*
 * Layout shared by the stub (C and assembly) and the Sentry (TypeScript).
 *
 * stub/build.mjs reads every "#define NAME VALUE" line of this file into
 * src/stub/image.generated.ts, so each value must be one plain number: no
 * expressions, no casts. The TypeScript side derives nothing by itself.
 */
#ifndef SYSTRAP_LAYOUT_H
#define SYSTRAP_LAYOUT_H

/* The range the platform reserves at the top of the address space. */
#define STUB_BASE 0x7fc000000000
/* Code and read-only data of the stub, linked at STUB_BASE; at most this long. */
#define STUB_TEXT_MAX 0x100000
/* The control region (a memfd shared with the Sentry): header, then slots. */
#define CONTROL_BASE 0x7fc000100000
#define CONTROL_SIZE 0x2010000
#define CONTROL_END 0x7fc002110000
/* One past the highest user address of a 4-level page table. */
#define TASK_TOP 0x7ffffffff000

/* Descriptors a stub finds open when it starts. */
#define MEMORY_FD 3
#define CONTROL_FD 4
#define WAKE_FD 5
#define FIRST_FREE_FD 6

/* Header of the control region. */
#define HEADER_SIZE 0x10000
#define HDR_READY 0x0
#define HDR_REQ_SEQ 0x4
#define HDR_DONE_SEQ 0x8
#define HDR_EXEC_SLEEPING 0xc
#define HDR_SENTRY_WAITING 0x10
#define HDR_OP 0x14
#define HDR_ARG0 0x18
#define HDR_ARG1 0x20
#define HDR_ARG2 0x28
#define HDR_ARG3 0x30
#define HDR_RESULT 0x38
#define HDR_RESULT2 0x40
#define HDR_SENTRY_PID 0x48
#define HDR_SEAL_TEXT 0x50
#define HDR_SEAL_CONTROL 0x58
/* Rounds a stub thread spins after a trap before it sleeps (set by the Sentry; at most STUB_SPIN_MAX). */
#define HDR_STUB_SPIN 0x60
/* Instruction that stub threads read their CPU number with, for SLOT_CPU (one of CPU_SOURCE_*, written by the stub at start-up). */
#define HDR_CPU_SOURCE 0x64
/* Pause rounds a stub thread spins after a trap before its sched_yield rounds (set by the Sentry; at most STUB_PAUSE_MAX). */
#define HDR_STUB_PAUSE 0x68
#define READY_MAGIC 0x53595354

/* Executor operations (HDR_OP). */
#define OP_MMAP 1
#define OP_MUNMAP 2
#define OP_MPROTECT 3
#define OP_CLONE 4
/* Reports the number of threads the executor started (HDR_RESULT2). */
#define OP_COUNT 5

/* Per-thread slots follow the header. */
#define SLOTS_BASE 0x7fc000110000
#define SLOT_SIZE 0x20000
#define SLOT_SHIFT 17
#define MAX_THREADS 256

/* Fields of a slot. */
#define SLOT_STATE 0x0
#define SLOT_STUB_SLEEPING 0x4
#define SLOT_SENTRY_WAITING 0x8
#define SLOT_TRAP_KIND 0xc
#define SLOT_SIGNO 0x10
#define SLOT_CODE 0x14
#define SLOT_ADDR 0x18
#define SLOT_FPU_SIZE 0x20
#define SLOT_ERR 0x28
#define SLOT_TRAPNO 0x30
/* The CPU the thread trapped on, or CPU_UNKNOWN. */
#define SLOT_CPU 0x38
/* Number of mappings at SLOT_MAP_OPS the thread makes before it returns to the application; it clears the count after them. */
#define SLOT_MAP_COUNT 0x40
#define SLOT_REGS 0x100
/* Mappings for SLOT_MAP_COUNT: address, length, protection and memory file offset, 8 bytes each. */
#define SLOT_MAP_OPS 0x400
#define SLOT_MAP_OP_SIZE 0x20
#define SLOT_MAP_MAX 32
#define SLOT_FPU 0x1000
#define SLOT_FPU_CAPACITY 0x3000
#define SLOT_THREAD_STACK_TOP 0x8000
#define SLOT_SIGSTACK 0x8000
#define SLOT_SIGSTACK_SIZE 0x18000

/* Values of SLOT_STATE. */
#define STATE_IDLE 0
#define STATE_RUN 1
#define STATE_TRAPPED 2

/* Values of SLOT_SENTRY_WAITING: how the stub wakes the Sentry after its next trap. */
#define WAITING_NONE 0
#define WAITING_SOCKET 1
#define WAITING_FUTEX 2

/* Values of HDR_CPU_SOURCE. */
#define CPU_SOURCE_NONE 0
#define CPU_SOURCE_RDPID 1
#define CPU_SOURCE_RDTSCP 2
#define CPU_UNKNOWN 0xffffffff

/* Values of SLOT_TRAP_KIND. */
#define TRAP_SYSCALL 1
#define TRAP_FAULT 2
#define TRAP_SIGNAL 3
#define TRAP_INTERRUPT 4

/* Pause iterations the executor spins before it sleeps on a futex. */
#define STUB_SPIN_ITERATIONS 1000
/* Upper bound of HDR_STUB_SPIN, whatever the header says. */
#define STUB_SPIN_MAX 10000
/* Upper bound of HDR_STUB_PAUSE, whatever the header contains. */
#define STUB_PAUSE_MAX 100000

/* Exit statuses of a stub that fails to start or meets a broken invariant. */
#define EXIT_SETUP_FAILED 120
#define EXIT_ORPHAN 121
#define EXIT_BAD_STACK 122
#define EXIT_FILTER_FAILED 123
#define EXIT_MAP_FAILED 124

#endif
