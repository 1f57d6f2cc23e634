/* Host constants the stub uses (x86-64 Linux), for both C and assembly. */
#ifndef SYSTRAP_SYS_H
#define SYSTRAP_SYS_H

#define SYS_write 1
#define SYS_mmap 9
#define SYS_sched_yield 24
#define SYS_mprotect 10
#define SYS_munmap 11
#define SYS_rt_sigaction 13
#define SYS_rt_sigprocmask 14
#define SYS_rt_sigreturn 15
#define SYS_getpid 39
#define SYS_clone 56
#define SYS_exit 60
#define SYS_getppid 110
#define SYS_sigaltstack 131
#define SYS_prctl 157
#define SYS_futex 202
#define SYS_exit_group 231
#define SYS_seccomp 317
#define SYS_close_range 436
#define SYS_mseal 462

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1

#define PROT_READ 1
#define PROT_WRITE 2
#define MAP_SHARED 0x01
#define MAP_FIXED 0x10
#define MAP_FIXED_NOREPLACE 0x100000

/* CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM */
#define STUB_CLONE_FLAGS 0x50f00

#define SIGILL 4
#define SIGTRAP 5
#define SIGBUS 7
#define SIGFPE 8
#define SIGKILL 9
#define SIGUSR2 12
#define SIGSEGV 11
#define SIGPIPE 13
#define SIGSYS 31

#define EINVAL 22
#define EAGAIN 11

#endif
