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

/**
 * Offset in the trampoline page of the guest's task-state segment, which
 * TR points at. The trampoline's `out` runs at hardware CPL 3, so KVM's
 * emulator checks the port against the TSS I/O permission bitmap, reading
 * it through the guest page tables: without a mapped TSS the check fails and
 * the `out` raises #GP. Only the I/O bitmap part of the TSS is used.
 */
export const TSS_OFFSET = 0x800;
/** Offset of the I/O bitmap inside the TSS: right after the 104-byte 64-bit TSS. */
const IO_BITMAP_OFFSET = 0x68;
/** The bitmap: ports 0x00-0x1f, one bit each, set = denied; only SYSCALL_PORT is allowed. Ports past it are beyond TR's limit and denied. */
const IO_BITMAP: readonly number[] = [0xff, 0xff, 0xff & ~(1 << (SYSCALL_PORT - 0x10)), 0xff];
/** TR's limit: the last byte of the bitmap. */
export const TSS_LIMIT = IO_BITMAP_OFFSET + IO_BITMAP.length - 1;

/** The whole trampoline page: the code at offset 0 and the TSS at TSS_OFFSET. */
export function trampolinePage(): Uint8Array {
  const page = new Uint8Array(4096);
  page.set(TRAMPOLINE_CODE, 0);
  new DataView(page.buffer).setUint16(TSS_OFFSET + 0x66, IO_BITMAP_OFFSET, true);
  page.set(IO_BITMAP, TSS_OFFSET + IO_BITMAP_OFFSET);
  return page;
}
