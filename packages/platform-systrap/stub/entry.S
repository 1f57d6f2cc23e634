/*
 * Entry point, executor loop and thread start of a systrap stub.
 *
 * The executor is the stub's first thread. Once the stub is set up it never
 * touches a stack: every value that steers it lives in a register (r12 the
 * control header, r13 the number of threads it created, r14 whether mseal
 * sealed the stub, r15 the last request it served), so an application thread that scribbles on shared memory can
 * change what it is asked to do, never how it checks the request.
 */
#include "layout.h"
#include "sys.h"

	.intel_syntax noprefix

	.section .text.start, "ax"
	.globl _start
_start:
	and rsp, -16
	call stub_setup
	/* Whether the stub is sealed; threads inherit it and choose their filter by it. */
	mov r14d, eax

	movabs r12, CONTROL_BASE
	xor r13d, r13d
	/* From here on the executor has no stack. */
	xor esp, esp

	/* Leave nothing mapped outside the reserved range: the initial stack, vdso and vvar go. */
	mov eax, SYS_munmap
	xor edi, edi
	movabs rsi, STUB_BASE
	syscall
	test rax, rax
	jnz .Lsetup_failed

	lea rdi, [rip + stub_text_end]
	movabs rsi, CONTROL_BASE
	sub rsi, rdi
	jz 1f
	mov eax, SYS_munmap
	syscall
	test rax, rax
	jnz .Lsetup_failed
1:
	mov eax, SYS_munmap
	movabs rdi, CONTROL_END
	movabs rsi, TASK_TOP
	sub rsi, rdi
	syscall
	test rax, rax
	jnz .Lsetup_failed

	/* Tell the Sentry the stub is ready. */
	mov r15d, dword ptr [r12 + HDR_REQ_SEQ]
	mov eax, READY_MAGIC
	xchg dword ptr [r12 + HDR_READY], eax
	mov eax, SYS_futex
	lea rdi, [r12 + HDR_READY]
	mov esi, FUTEX_WAKE
	mov edx, 1
	syscall

	.globl stub_executor_loop
stub_executor_loop:
	mov ebx, STUB_SPIN_ITERATIONS
.Lspin:
	mov eax, dword ptr [r12 + HDR_REQ_SEQ]
	cmp eax, r15d
	jne .Lrequest
	pause
	dec ebx
	jnz .Lspin

	/*
	 * Then as many rounds as a stub thread spins, each giving up the CPU:
	 * requests come in bursts (a fork, an execve, a run of page faults),
	 * and a wake-up from the futex costs more than the whole spin.
	 */
	mov ebx, dword ptr [r12 + HDR_STUB_SPIN]
	cmp ebx, STUB_SPIN_MAX
	jbe .Lyield_check
	mov ebx, STUB_SPIN_MAX
.Lyield_check:
	test ebx, ebx
	jz .Lsleep
.Lyield:
	mov eax, dword ptr [r12 + HDR_REQ_SEQ]
	cmp eax, r15d
	jne .Lrequest
	mov eax, SYS_sched_yield
	syscall
	dec ebx
	jnz .Lyield

.Lsleep:
	mov eax, 1
	xchg dword ptr [r12 + HDR_EXEC_SLEEPING], eax
	mov edx, dword ptr [r12 + HDR_REQ_SEQ]
	cmp edx, r15d
	jne .Lawake
	mov eax, SYS_futex
	lea rdi, [r12 + HDR_REQ_SEQ]
	mov esi, FUTEX_WAIT
	xor r10d, r10d
	syscall
.Lawake:
	mov dword ptr [r12 + HDR_EXEC_SLEEPING], 0
	jmp stub_executor_loop

.Lrequest:
	mov r15d, eax
	mov eax, dword ptr [r12 + HDR_OP]
	cmp eax, OP_CLONE
	je .Lclone
	cmp eax, OP_COUNT
	je .Lcount

	/* Memory operations: [addr, addr+len) must lie wholly below STUB_BASE. */
	mov rdi, qword ptr [r12 + HDR_ARG0]
	mov rsi, qword ptr [r12 + HDR_ARG1]
	mov rdx, qword ptr [r12 + HDR_ARG2]
	mov r9, qword ptr [r12 + HDR_ARG3]
	and edx, PROT_READ | PROT_WRITE | 4
	mov rcx, rdi
	add rcx, rsi
	jc .Linvalid
	movabs r8, STUB_BASE
	cmp rcx, r8
	ja .Linvalid

	cmp eax, OP_MMAP
	je .Lmmap
	cmp eax, OP_MUNMAP
	je .Lmunmap
	cmp eax, OP_MPROTECT
	je .Lmprotect
	jmp .Linvalid

.Lmmap:
	mov r10d, MAP_SHARED | MAP_FIXED
	mov r8d, MEMORY_FD
	mov eax, SYS_mmap
	syscall
	/* mmap returns the address; report success as 0. */
	cmp rax, rdi
	jne .Ldone
	xor eax, eax
	jmp .Ldone
.Lmunmap:
	mov eax, SYS_munmap
	syscall
	jmp .Ldone
.Lmprotect:
	mov eax, SYS_mprotect
	syscall
	jmp .Ldone

.Lclone:
	mov rax, -EAGAIN
	cmp r13d, MAX_THREADS
	jae .Ldone
	/* The child starts on its slot's thread stack with its slot index in rbx. */
	mov rsi, r13
	shl rsi, SLOT_SHIFT
	movabs rax, SLOTS_BASE + SLOT_THREAD_STACK_TOP
	add rsi, rax
	mov rbx, r13
	mov edi, STUB_CLONE_FLAGS
	xor edx, edx
	xor r10d, r10d
	xor r8d, r8d
	mov eax, SYS_clone
	syscall
	test rax, rax
	jz stub_thread_start
	js .Ldone
	mov qword ptr [r12 + HDR_RESULT2], r13
	inc r13d
	jmp .Ldone

.Lcount:
	mov qword ptr [r12 + HDR_RESULT2], r13
	xor eax, eax
	jmp .Ldone

.Linvalid:
	mov rax, -EINVAL
.Ldone:
	mov qword ptr [r12 + HDR_RESULT], rax
	mov eax, r15d
	xchg dword ptr [r12 + HDR_DONE_SEQ], eax
	cmp dword ptr [r12 + HDR_SENTRY_WAITING], 0
	je stub_executor_loop
	mov eax, SYS_futex
	lea rdi, [r12 + HDR_DONE_SEQ]
	mov esi, FUTEX_WAKE
	mov edx, 1
	syscall
	jmp stub_executor_loop

.Lsetup_failed:
	mov eax, SYS_exit_group
	mov edi, EXIT_SETUP_FAILED
	syscall
	ud2

/*
 * A new application thread. Before it uses its stack (which application
 * threads can write), it narrows its own filter so that it can never clone,
 * unmap, protect or install filters, whatever its registers say later, nor
 * map unless the stub is sealed (r14, from the executor).
 */
	.globl stub_thread_start
stub_thread_start:
	mov eax, SYS_seccomp
	mov edi, 1
	xor esi, esi
	lea rdx, [rip + stub_thread_filter]
	test r14d, r14d
	jz 1f
	lea rdx, [rip + stub_thread_filter_sealed]
1:
	syscall
	test rax, rax
	jnz .Lfilter_failed
	mov rdi, rbx
	shl rdi, SLOT_SHIFT
	movabs rax, SLOTS_BASE
	add rdi, rax
	and rsp, -16
	call stub_thread_main
	ud2
.Lfilter_failed:
	mov eax, SYS_exit_group
	mov edi, EXIT_FILTER_FAILED
	syscall
	ud2

/* Enters the signal handler for the first time: this system call always traps. */
	.globl stub_bootstrap
stub_bootstrap:
	mov eax, SYS_getpid
	syscall
	.globl stub_bootstrap_return
stub_bootstrap_return:
	ud2

/* The restorer every handler returns through. */
	.globl stub_restorer
stub_restorer:
	mov eax, SYS_rt_sigreturn
	syscall
	ud2
