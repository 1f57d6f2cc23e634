// The stub executable: the host process whose address space contains one
// application address space. It is generated here as a minimal static ELF,
// so the package ships no binary and needs no compiler at run time.

/** Address of the stub's only page. Everything from here up is reserved for the platform. */
export const STUB_BASE = 0x7ff0_0000_0000;
/** One past the highest user address of x86-64 with 4-level paging. */
export const TASK_SIZE = 0x7fff_ffff_f000;
/** Descriptor number of the sandbox memfd inside the stub. */
export const STUB_MEMFD = 3;
/** Exit status of a stub whose PTRACE_TRACEME failed. */
export const STUB_TRACEME_FAILED = 127;
/** Descriptor number of the stub's own executable while it starts; closed by the stub. */
export const STUB_EXE_FD = 4;

const PAGE_SIZE = 4096;
/** Offset in the stub page of its process name, which ps and /proc/PID/comm show. */
const NAME_OFFSET = 0x800;
/** The stub's process name (at most 15 bytes, the size of a task's comm). */
export const STUB_NAME = "sandbox-stub";
const ELF_HEADER_SIZE = 64;
const PROGRAM_HEADER_SIZE = 56;
const CODE_OFFSET = ELF_HEADER_SIZE + PROGRAM_HEADER_SIZE;

function imm32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff];
}

function imm64(value: number): number[] {
  return [...imm32(value % 0x1_0000_0000), ...imm32(Math.floor(value / 0x1_0000_0000))];
}

/** `mov eax, imm32` */
const movEax = (value: number) => [0xb8, ...imm32(value)];
/** `mov edi, imm32` */
const movEdi = (value: number) => [0xbf, ...imm32(value)];
/** `mov esi, imm32` */
const movEsi = (value: number) => [0xbe, ...imm32(value)];
/** `movabs rdi, imm64` */
const movabsRdi = (value: number) => [0x48, 0xbf, ...imm64(value)];
/** `movabs rsi, imm64` */
const movabsRsi = (value: number) => [0x48, 0xbe, ...imm64(value)];
const SYSCALL = [0x0f, 0x05];
const INT3 = [0xcc];

/**
 * The stub's start-up code. It runs once, with no stack use:
 *   prctl(PR_SET_PDEATHSIG, SIGKILL)      die with the Sentry's thread
 *   prctl(PR_SET_NAME, STUB_NAME)         name the process for ps
 *   ptrace(PTRACE_TRACEME, 0, 0, 0)       the spawning thread becomes the tracer
 *   if that failed: exit_group(127)       e.g. the Sentry is itself being traced
 *   munmap(0, STUB_BASE)                  drop the stack, vDSO and vvar below us
 *   munmap(STUB_BASE + PAGE, rest)        and whatever the kernel put above us
 *   close(STUB_EXE_FD)
 *   kill(getpid(), SIGSTOP)               report to the tracer
 *   loop: int3; jmp loop                  never reached without the tracer
 * followed by the injection gadget `syscall; int3`, which the platform uses
 * to run mmap/munmap/mprotect in the stub on the Sentry's behalf.
 */
function startupCode(): { code: number[]; gadgetOffset: number } {
  const code = [
    ...movEax(157), ...movEdi(1), ...movEsi(9), ...SYSCALL,
    ...movEax(157), ...movEdi(15), ...movabsRsi(STUB_BASE + NAME_OFFSET), ...SYSCALL,
    ...movEax(101), 0x31, 0xff, 0x31, 0xf6, 0x31, 0xd2, 0x4d, 0x31, 0xd2, ...SYSCALL,
    0x48, 0x85, 0xc0, 0x74, 0x0c, // test rax, rax; jz +12
    ...movEdi(STUB_TRACEME_FAILED), ...movEax(231), ...SYSCALL,
    ...movEax(11), 0x31, 0xff, ...movabsRsi(STUB_BASE), ...SYSCALL,
    ...movEax(11), ...movabsRdi(STUB_BASE + PAGE_SIZE), ...movabsRsi(TASK_SIZE - STUB_BASE - PAGE_SIZE), ...SYSCALL,
    ...movEax(3), ...movEdi(STUB_EXE_FD), ...SYSCALL,
    ...movEax(39), ...SYSCALL,
    0x89, 0xc7, // mov edi, eax
    ...movEax(62), ...movEsi(19), ...SYSCALL,
    ...INT3, 0xeb, 0xfd, // loop: int3; jmp loop
  ];
  const gadgetOffset = code.length;
  code.push(...SYSCALL, ...INT3);
  return { code, gadgetOffset };
}

/** The generated stub: the ELF file and the address of its `syscall; int3` gadget. */
export interface StubImage {
  readonly elf: Uint8Array;
  readonly gadgetAddress: number;
}

/** Builds the stub executable: one PT_LOAD segment, read and execute, at STUB_BASE. */
export function buildStubImage(): StubImage {
  const { code, gadgetOffset } = startupCode();
  if (CODE_OFFSET + code.length > NAME_OFFSET) throw new Error("stub code overlaps its name");
  const elf = new Uint8Array(NAME_OFFSET + STUB_NAME.length + 1);
  const view = new DataView(elf.buffer);

  elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]); // ELF magic, 64-bit, little-endian, version 1, System V
  view.setUint16(16, 2, true); // e_type = ET_EXEC
  view.setUint16(18, 62, true); // e_machine = EM_X86_64
  view.setUint32(20, 1, true); // e_version
  view.setBigUint64(24, BigInt(STUB_BASE + CODE_OFFSET), true); // e_entry
  view.setBigUint64(32, BigInt(ELF_HEADER_SIZE), true); // e_phoff
  view.setUint16(52, ELF_HEADER_SIZE, true); // e_ehsize
  view.setUint16(54, PROGRAM_HEADER_SIZE, true); // e_phentsize
  view.setUint16(56, 1, true); // e_phnum

  const ph = ELF_HEADER_SIZE;
  view.setUint32(ph, 1, true); // p_type = PT_LOAD
  view.setUint32(ph + 4, 5, true); // p_flags = PF_R | PF_X
  view.setBigUint64(ph + 8, 0n, true); // p_offset
  view.setBigUint64(ph + 16, BigInt(STUB_BASE), true); // p_vaddr
  view.setBigUint64(ph + 24, BigInt(STUB_BASE), true); // p_paddr
  view.setBigUint64(ph + 32, BigInt(elf.length), true); // p_filesz
  view.setBigUint64(ph + 40, BigInt(elf.length), true); // p_memsz
  view.setBigUint64(ph + 48, BigInt(PAGE_SIZE), true); // p_align

  elf.set(code, CODE_OFFSET);
  elf.set(new TextEncoder().encode(STUB_NAME), NAME_OFFSET);
  return { elf, gadgetAddress: STUB_BASE + CODE_OFFSET + gadgetOffset };
}
