/**
 * Guest virtual address of the supervisor trampoline: the last page of the
 * lower half that 4-level paging reaches, inside the platform's reserved range.
 * MSR_LSTAR points here, so every `syscall` of the application enters it.
 */
export const TRAMPOLINE_VA = 0x7fff_ffff_f000;

/** The guest `out` port the trampoline reports a system call on. */
export const SYSCALL_PORT = 0x10;

/**
 * The trampoline's machine code, one instruction per line:
 *
 *   offset 0: e6 10   out 0x10, al
 *       Runs in guest supervisor mode right after the application's
 *       `syscall` (rcx = the user rip after it, r11 = the user rflags, every
 *       other register still the application's). The port write makes
 *       KVM_RUN return with KVM_EXIT_IO on port 0x10 and rip = TRAMPOLINE_VA + 2,
 *       which is how the Sentry tells a system call from everything else.
 *   offset 2: 0f 0b   ud2
 *       Never reached: the Sentry always resumes the application at its own
 *       rip. Should the vCPU ever run on, it stops here with #UD.
 */
export const TRAMPOLINE_CODE: readonly number[] = [0xe6, SYSCALL_PORT, 0x0f, 0x0b];

/** The rip KVM reports when the trampoline's `out` made KVM_RUN return. */
export const TRAMPOLINE_EXIT_RIP = TRAMPOLINE_VA + 2;
