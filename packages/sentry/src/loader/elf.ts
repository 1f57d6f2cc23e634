import { Errno, SyscallError } from "@sandbox/abi";

/** ELF header field offsets and values for 64-bit little-endian x86-64 files. */
const EI_CLASS = 4;
const EI_DATA = 5;
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const ET_EXEC = 2;
const ET_DYN = 3;
const EM_X86_64 = 62;
const ELF64_HEADER_SIZE = 64;
const ELF64_PHDR_SIZE = 56;
/** Linux refuses program header tables larger than 64 KiB (ELF_MIN_ALIGN-independent limit in binfmt_elf). */
const MAX_PHDR_TABLE_BYTES = 65536;

export const PT_LOAD = 1;
export const PT_INTERP = 3;
export const PT_PHDR = 6;
export const PT_GNU_STACK = 0x6474e551;

export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

/** One program header of an ELF64 file. */
export interface ProgramHeader {
  readonly type: number;
  readonly flags: number;
  readonly offset: number;
  readonly vaddr: number;
  readonly filesz: number;
  readonly memsz: number;
  readonly align: number;
}

/** The parts of an ELF64 executable the loader uses. */
export interface ElfImage {
  /** ET_EXEC or ET_DYN. */
  readonly type: number;
  readonly entry: number;
  readonly phoff: number;
  readonly phentsize: number;
  readonly phnum: number;
  readonly programHeaders: readonly ProgramHeader[];
  /** Path of the program interpreter (PT_INTERP), if any. */
  readonly interpreter: string | undefined;
  /** Whether the stack should be executable (no PT_GNU_STACK, or PT_GNU_STACK with PF_X). */
  readonly executableStack: boolean;
}

/** Reads file bytes at an offset; returns the number of bytes read. */
export type ReadAt = (offset: number, target: Uint8Array) => number;

/** Reads `length` bytes or fails with `errno`: binfmt_elf gives ENOEXEC for a short header or program header table and EIO for a short PT_INTERP. */
function readExactly(readAt: ReadAt, offset: number, length: number, errno: number = Errno.EIO): Uint8Array {
  const bytes = new Uint8Array(length);
  const read = readAt(offset, bytes);
  if (read !== length) throw new SyscallError(errno, `truncated ELF file: wanted ${length} bytes at offset ${offset}, got ${read}`);
  return bytes;
}

/** Returns whether `header` starts with the ELF magic bytes. */
export function hasElfMagic(header: Uint8Array): boolean {
  return header.length >= 4 && header[0] === 0x7f && header[1] === 0x45 && header[2] === 0x4c && header[3] === 0x46;
}

/**
 * Parses and validates an ELF64 x86-64 executable the way Linux's binfmt_elf
 * does before loading it. Any malformed or foreign file yields ENOEXEC,
 * which is what execve(2) returns for it.
 */
export function parseElf(readAt: ReadAt): ElfImage {
  const header = readExactly(readAt, 0, ELF64_HEADER_SIZE, Errno.ENOEXEC);
  if (!hasElfMagic(header)) throw new SyscallError(Errno.ENOEXEC, "not an ELF file");
  const view = new DataView(header.buffer);
  if (header[EI_CLASS] !== ELFCLASS64 || header[EI_DATA] !== ELFDATA2LSB) {
    throw new SyscallError(Errno.ENOEXEC, "not a 64-bit little-endian ELF file");
  }
  const type = view.getUint16(16, true);
  const machine = view.getUint16(18, true);
  if (machine !== EM_X86_64) throw new SyscallError(Errno.ENOEXEC, `ELF machine ${machine} is not x86-64`);
  if (type !== ET_EXEC && type !== ET_DYN) throw new SyscallError(Errno.ENOEXEC, `ELF type ${type} is not executable`);

  const entry = Number(view.getBigUint64(24, true));
  const phoff = Number(view.getBigUint64(32, true));
  const phentsize = view.getUint16(54, true);
  const phnum = view.getUint16(56, true);
  if (phentsize !== ELF64_PHDR_SIZE || phnum === 0 || phnum * phentsize > MAX_PHDR_TABLE_BYTES) {
    throw new SyscallError(Errno.ENOEXEC, "invalid ELF program header table");
  }

  const table = readExactly(readAt, phoff, phnum * phentsize, Errno.ENOEXEC);
  const tableView = new DataView(table.buffer);
  const programHeaders: ProgramHeader[] = [];
  let interpreter: string | undefined;
  let executableStack = true;
  for (let i = 0; i < phnum; i++) {
    const base = i * phentsize;
    const ph: ProgramHeader = {
      type: tableView.getUint32(base, true),
      flags: tableView.getUint32(base + 4, true),
      offset: Number(tableView.getBigUint64(base + 8, true)),
      vaddr: Number(tableView.getBigUint64(base + 16, true)),
      filesz: Number(tableView.getBigUint64(base + 32, true)),
      memsz: Number(tableView.getBigUint64(base + 40, true)),
      align: Number(tableView.getBigUint64(base + 48, true)),
    };
    programHeaders.push(ph);
    if (ph.type === PT_LOAD) validateLoadSegment(ph);
    if (ph.type === PT_GNU_STACK) executableStack = (ph.flags & PF_X) !== 0;
    if (ph.type === PT_INTERP) {
      if (ph.filesz < 2 || ph.filesz > 4096) throw new SyscallError(Errno.ENOEXEC, "invalid PT_INTERP size");
      const bytes = readExactly(readAt, ph.offset, ph.filesz);
      if (bytes[bytes.length - 1] !== 0) throw new SyscallError(Errno.ENOEXEC, "PT_INTERP is not NUL-terminated");
      interpreter = new TextDecoder().decode(bytes.subarray(0, bytes.indexOf(0)));
    }
  }
  if (!programHeaders.some((ph) => ph.type === PT_LOAD)) throw new SyscallError(Errno.ENOEXEC, "ELF file has no PT_LOAD segment");
  return { type, entry, phoff, phentsize, phnum, programHeaders, interpreter, executableStack };
}

function validateLoadSegment(ph: ProgramHeader): void {
  const valid =
    ph.filesz <= ph.memsz &&
    (ph.vaddr & 0xfff) === (ph.offset & 0xfff) &&
    ph.vaddr + ph.memsz <= 0x7fff_ffff_f000 &&
    ph.offset + ph.filesz <= Number.MAX_SAFE_INTEGER;
  if (!valid) throw new SyscallError(Errno.ENOEXEC, `invalid PT_LOAD segment at 0x${ph.vaddr.toString(16)}`);
}
