import { Errno, SyscallError } from "@sandbox/abi";
import type { Mappable, MemoryManager } from "@sandbox/mm";
import { type ElfImage, parseElf, PF_R, PF_W, PF_X, PT_LOAD, PT_PHDR, type ReadAt } from "./elf";
import { AuxType, buildInitialStack } from "./stack";

const PAGE_SIZE = 4096;
const PROT_READ = 1;
const PROT_WRITE = 2;
const PROT_EXEC = 4;
const MAP_PRIVATE = 0x02;
const MAP_FIXED = 0x10;
const MAP_ANONYMOUS = 0x20;
const MAP_GROWSDOWN = 0x100;
/** Where Linux puts a position-independent main executable on x86-64 (ELF_ET_DYN_BASE without randomization). */
const ET_DYN_BASE = 0x5555_5555_4000;
/** Size of the stack mapping; it is populated on demand. NOTE: fixed at 8 MiB rather than following RLIMIT_STACK. */
export const STACK_SIZE = 8 * 1024 * 1024;
const CLOCK_TICKS_PER_SECOND = 100n;

/** An executable file opened for loading. */
export interface ExecutableFile {
  /** The path the program was found at, for /proc/self/exe and mapping names. */
  readonly path: string;
  readonly readAt: ReadAt;
  readonly mappable: Mappable;
}

/** What a new program starts with. */
export interface LoadRequest {
  readonly file: ExecutableFile;
  readonly argv: readonly string[];
  readonly envp: readonly string[];
  /** AT_EXECFN: the path as given to execve. */
  readonly execfn: string;
  readonly uid: number;
  readonly euid: number;
  readonly gid: number;
  readonly egid: number;
  readonly hwcap: bigint;
  readonly hwcap2: bigint;
  /** Top of the stack; the stack mapping ends here. */
  readonly stackTop: number;
  /** Opens the program interpreter named by PT_INTERP, inside the sandbox's root. */
  readonly openInterpreter: (path: string) => ExecutableFile;
}

/** Registers a loaded program starts with. */
export interface LoadResult {
  readonly entry: number;
  readonly sp: number;
}

const pageDown = (value: number) => value - (value % PAGE_SIZE);
const pageUp = (value: number) => pageDown(value + PAGE_SIZE - 1);

function protOf(flags: number): number {
  return (flags & PF_R ? PROT_READ : 0) | (flags & PF_W ? PROT_WRITE : 0) | (flags & PF_X ? PROT_EXEC : 0);
}

function loadSegmentsSpan(elf: ElfImage): { low: number; high: number } {
  const loads = elf.programHeaders.filter((ph) => ph.type === PT_LOAD);
  return {
    low: pageDown(Math.min(...loads.map((ph) => ph.vaddr))),
    high: pageUp(Math.max(...loads.map((ph) => ph.vaddr + ph.memsz))),
  };
}

/**
 * Maps every PT_LOAD segment of `elf` at `bias`: the file part as a private
 * file mapping, the rest of the last file page zeroed, and the bss as
 * anonymous memory. Returns the end of the highest segment.
 */
function mapSegments(mm: MemoryManager, elf: ElfImage, file: ExecutableFile, bias: number): number {
  let end = 0;
  for (const ph of elf.programHeaders) {
    if (ph.type !== PT_LOAD || ph.memsz === 0) continue;
    const prot = protOf(ph.flags);
    const start = bias + ph.vaddr;
    const mapStart = pageDown(start);
    const fileEnd = start + ph.filesz;
    const memEnd = start + ph.memsz;

    if (ph.filesz > 0) {
      const length = pageUp(fileEnd) - mapStart;
      const offset = ph.offset - (start - mapStart);
      mm.mmap({ addr: mapStart, length, prot, flags: MAP_PRIVATE | MAP_FIXED, file: file.mappable, offset, name: file.path });
      // Like Linux's padzero, a segment with a bss zeroes the rest of its
      // last file page: the dynamic loader's early allocator takes that
      // space past _end as zeroed memory.
      const tail = pageUp(fileEnd) - fileEnd;
      if (tail > 0 && ph.memsz > ph.filesz) {
        if ((prot & PROT_WRITE) === 0) throw new SyscallError(Errno.ENOEXEC, "bss in a read-only segment");
        mm.copyOut(fileEnd, new Uint8Array(tail));
      }
    }
    const anonStart = ph.filesz > 0 ? pageUp(fileEnd) : mapStart;
    const anonEnd = pageUp(memEnd);
    if (anonEnd > anonStart) {
      mm.mmap({ addr: anonStart, length: anonEnd - anonStart, prot, flags: MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, offset: 0 });
    }
    end = Math.max(end, memEnd);
  }
  return end;
}

/** Reserves room for an ELF image whose segments span [low, high) and returns the load bias. */
function chooseBias(mm: MemoryManager, elf: ElfImage, preferred: number): number {
  const { low, high } = loadSegmentsSpan(elf);
  if (elf.type === 2 /* ET_EXEC */) return 0;
  const reservation = mm.mmap({ addr: preferred, length: high - low, prot: 0, flags: MAP_PRIVATE | MAP_ANONYMOUS, offset: 0 });
  return reservation - low;
}

function phdrAddress(elf: ElfImage, bias: number): number {
  const phdr = elf.programHeaders.find((ph) => ph.type === PT_PHDR);
  if (phdr !== undefined) return bias + phdr.vaddr;
  const containing = elf.programHeaders.find(
    (ph) => ph.type === PT_LOAD && elf.phoff >= ph.offset && elf.phoff + elf.phnum * elf.phentsize <= ph.offset + ph.filesz,
  );
  return containing === undefined ? 0 : bias + containing.vaddr + (elf.phoff - containing.offset);
}

/**
 * Loads a static, static-PIE or dynamically linked ELF program into an
 * empty address space and builds its initial stack, as execve(2) does.
 * Errors are SyscallErrors with the errno execve would return.
 */
export function loadProgram(mm: MemoryManager, request: LoadRequest): LoadResult {
  const elf = parseElf(request.file.readAt);
  const bias = chooseBias(mm, elf, ET_DYN_BASE);
  const end = mapSegments(mm, elf, request.file, bias);
  mm.setBrkBase(pageUp(end));

  let entry = bias + elf.entry;
  let interpreterBase = 0;
  if (elf.interpreter !== undefined) {
    const interpreterFile = request.openInterpreter(elf.interpreter);
    const interpreter = parseElf(interpreterFile.readAt);
    if (interpreter.interpreter !== undefined) throw new SyscallError(Errno.ELIBBAD, "the interpreter has an interpreter");
    const interpreterBias = chooseBias(mm, interpreter, 0);
    mapSegments(mm, interpreter, interpreterFile, interpreterBias);
    interpreterBase = interpreterBias + loadSegmentsSpan(interpreter).low;
    entry = interpreterBias + interpreter.entry;
  }

  const stackTop = request.stackTop;
  const stackFlags = MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_GROWSDOWN;
  const stackProt = PROT_READ | PROT_WRITE | (elf.executableStack ? PROT_EXEC : 0);
  mm.mmap({ addr: stackTop - STACK_SIZE, length: STACK_SIZE, prot: stackProt, flags: stackFlags, offset: 0, growsDown: true, name: "[stack]" });

  const secure = request.uid !== request.euid || request.gid !== request.egid;
  const stack = buildInitialStack(stackTop, {
    argv: request.argv,
    envp: request.envp,
    execfn: request.execfn,
    auxv: [
      [AuxType.AT_HWCAP, request.hwcap],
      [AuxType.AT_PAGESZ, BigInt(PAGE_SIZE)],
      [AuxType.AT_CLKTCK, CLOCK_TICKS_PER_SECOND],
      [AuxType.AT_PHDR, BigInt(phdrAddress(elf, bias))],
      [AuxType.AT_PHENT, BigInt(elf.phentsize)],
      [AuxType.AT_PHNUM, BigInt(elf.phnum)],
      [AuxType.AT_BASE, BigInt(interpreterBase)],
      [AuxType.AT_FLAGS, 0n],
      [AuxType.AT_ENTRY, BigInt(bias + elf.entry)],
      [AuxType.AT_UID, BigInt(request.uid)],
      [AuxType.AT_EUID, BigInt(request.euid)],
      [AuxType.AT_GID, BigInt(request.gid)],
      [AuxType.AT_EGID, BigInt(request.egid)],
      [AuxType.AT_SECURE, secure ? 1n : 0n],
      [AuxType.AT_HWCAP2, request.hwcap2],
      [AuxType.AT_MINSIGSTKSZ, 3632n],
    ],
  });
  mm.copyOut(stack.sp, stack.bytes);
  return { entry, sp: stack.sp };
}
