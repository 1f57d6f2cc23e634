import { Errno, SyscallError } from "@sandbox/abi";
import type { AddressRange, AddressSpace } from "@sandbox/platform";
import { isPageAligned, isUnsignedInteger, overlaps, overlapsAny, pageAlignDown, pageAlignUp } from "./address";
import {
  BUS_ADRERR,
  MADV_COLD,
  MADV_COLLAPSE,
  MADV_DODUMP,
  MADV_DOFORK,
  MADV_DONTDUMP,
  MADV_DONTFORK,
  MADV_DONTNEED,
  MADV_FREE,
  MADV_HUGEPAGE,
  MADV_KEEPONFORK,
  MADV_MERGEABLE,
  MADV_NOHUGEPAGE,
  MADV_NORMAL,
  MADV_PAGEOUT,
  MADV_POPULATE_READ,
  MADV_POPULATE_WRITE,
  MADV_RANDOM,
  MADV_REMOVE,
  MADV_SEQUENTIAL,
  MADV_UNMERGEABLE,
  MADV_WILLNEED,
  MADV_WIPEONFORK,
  MAP_32BIT,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_GROWSDOWN,
  MAP_LOCKED,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_SHARED_VALIDATE,
  MAP_TYPE,
  MAP_VALIDATE_KNOWN,
  MREMAP_DONTUNMAP,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  PAGE_SIZE,
  PROT_ALL,
  PROT_GROWSDOWN,
  PROT_GROWSUP,
  PROT_READ,
  PROT_SEM,
  PROT_WRITE,
  SEGV_ACCERR,
  SEGV_MAPERR,
  SIGBUS,
  SIGSEGV,
} from "./flags";
import { FaultCode, FaultHandler, allows, effectiveProt } from "./fault-handler";
import type { Mappable } from "./mappable";
import type { MemoryFile } from "./memory-file";
import type { PageAllocator } from "./page-allocator";
import { PmaSet } from "./pma-set";
import { SharedAnonymousMemory } from "./shared-anonymous-memory";
import { Vma, type VmaInfo } from "./vma";
import { VmaSet } from "./vma-set";

/** Options of a MemoryManager. */
export interface MemoryManagerOptions {
  /** The sandbox's memory file; it must be the allocator's file. */
  readonly memoryFile: MemoryFile;
  /** The sandbox's page allocator, shared by every MemoryManager and tmpfs file of the sandbox. */
  readonly allocator: PageAllocator;
  /** The host address space this MemoryManager drives; the caller releases it after `release()`. */
  readonly addressSpace: AddressSpace;
  /** Addresses the application may map (the platform's userRange). */
  readonly userRange: AddressRange;
  /** Addresses that are never mapped for the application (the platform's reservedRanges). */
  readonly reservedRanges: readonly AddressRange[];
  /** Highest address for top-down mmap placement; default 128 MiB below the end of userRange. */
  readonly mmapBase?: number;
  /** Largest size in bytes a grows-down stack VMA reaches by faults (RLIMIT_STACK); default 8 MiB. */
  readonly stackLimit?: number;
}

/** An mmap(2) request, already decoded by the system call handler. */
export interface MmapRequest {
  /** Address hint, or the exact address with MAP_FIXED or MAP_FIXED_NOREPLACE. */
  readonly addr: number;
  /** Length in bytes; rounded up to whole pages. */
  readonly length: number;
  /** PROT_* bits; bits other than PROT_READ, PROT_WRITE and PROT_EXEC are ignored, as on Linux. */
  readonly prot: number;
  /** MAP_* flags. */
  readonly flags: number;
  /** The object behind the file descriptor; ignored with MAP_ANONYMOUS. */
  readonly file?: Mappable;
  /** Byte offset into `file`; must be page-aligned. */
  readonly offset?: number;
  /** Makes a grows-down VMA, like MAP_GROWSDOWN. */
  readonly growsDown?: boolean;
  /** Name for /proc/PID/maps, such as "[stack]"; default the file's name. */
  readonly name?: string;
  /**
   * PROT_* bits that this mapping may ever have, from the file's open mode:
   * a MAP_SHARED mapping of a file opened read-only lacks PROT_WRITE. mmap
   * and mprotect fail with EACCES beyond it. Default PROT_READ|PROT_WRITE|PROT_EXEC.
   */
  readonly maxProt?: number;
}

/** The outcome of a page fault: served, or the signal the application gets. */
export type FaultResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly signo: number; readonly code: number };

/** Distance below the end of userRange of the default mmap base (Linux's minimum gap). */
const DEFAULT_MMAP_GAP = 128 << 20;
/** Default RLIMIT_STACK. */
const DEFAULT_STACK_LIMIT = 8 << 20;
/** Range Linux x86-64 searches for MAP_32BIT mappings, [1 GiB, 2 GiB). */
const MAP_32BIT_START = 0x40000000;
const MAP_32BIT_END = 0x80000000;
/** Name of the VMA that brk() manages. */
const HEAP_NAME = "[heap]";

const KNOWN_ADVICE = new Set([
  MADV_NORMAL,
  MADV_RANDOM,
  MADV_SEQUENTIAL,
  MADV_WILLNEED,
  MADV_DONTNEED,
  MADV_FREE,
  MADV_REMOVE,
  MADV_DONTFORK,
  MADV_DOFORK,
  MADV_MERGEABLE,
  MADV_UNMERGEABLE,
  MADV_HUGEPAGE,
  MADV_NOHUGEPAGE,
  MADV_DONTDUMP,
  MADV_DODUMP,
  MADV_WIPEONFORK,
  MADV_KEEPONFORK,
  MADV_COLD,
  MADV_PAGEOUT,
  MADV_POPULATE_READ,
  MADV_POPULATE_WRITE,
  MADV_COLLAPSE,
]);

/**
 * One application address space: its VMAs, the pages installed for them,
 * brk, faults and copies between the Sentry and application memory.
 *
 * System call methods follow Linux x86-64 semantics and throw SyscallError
 * with the errno Linux returns. Every page lives in the sandbox's memory
 * file; the platform's AddressSpace only mirrors what is installed. Private
 * pages are copied on the first write when they may be shared (after fork,
 * or when they are a file's own pages).
 *
 * Not thread-safe: the Sentry calls it from its one event-loop thread.
 */
export class MemoryManager {
  /** Highest address for top-down mmap placement. */
  mmapBase: number;
  /** Largest size in bytes a grows-down VMA reaches by faults (RLIMIT_STACK). */
  stackLimit: number;

  private readonly memoryFile: MemoryFile;
  private readonly allocator: PageAllocator;
  private readonly addressSpace: AddressSpace;
  private readonly userStart: number;
  private readonly userEnd: number;
  private readonly reserved: readonly AddressRange[];
  private readonly vmaSet = new VmaSet();
  private readonly pmaSet: PmaSet;
  private readonly faults: FaultHandler;
  private brkStart = 0;
  private brkCurrent = 0;
  private released = false;

  constructor(options: MemoryManagerOptions) {
    const { userRange } = options;
    if (
      !isUnsignedInteger(userRange.start) ||
      !isUnsignedInteger(userRange.end) ||
      !isPageAligned(userRange.start) ||
      !isPageAligned(userRange.end) ||
      userRange.start >= userRange.end
    ) {
      throw new RangeError(`invalid userRange [${userRange.start}, ${userRange.end}): expected page-aligned start < end`);
    }
    if (options.allocator.file !== options.memoryFile) {
      throw new Error("the page allocator must allocate from the memory manager's memory file");
    }
    for (const range of options.reservedRanges) {
      if (!isUnsignedInteger(range.start) || !isUnsignedInteger(range.end) || range.start > range.end) {
        throw new RangeError(`invalid reserved range [${range.start}, ${range.end})`);
      }
    }

    this.memoryFile = options.memoryFile;
    this.allocator = options.allocator;
    this.addressSpace = options.addressSpace;
    this.userStart = userRange.start;
    this.userEnd = userRange.end;
    this.reserved = [...options.reservedRanges].sort((a, b) => a.start - b.start);
    this.pmaSet = new PmaSet(this.addressSpace, this.allocator);
    this.faults = new FaultHandler(this.vmaSet, this.pmaSet, this.allocator, this.memoryFile, this.userStart, this.reserved, this);
    this.mmapBase = options.mmapBase ?? pageAlignDown(Math.max(this.userStart, this.userEnd - DEFAULT_MMAP_GAP));
    this.stackLimit = options.stackLimit ?? DEFAULT_STACK_LIMIT;
  }

  /** The start of the heap, as set by setBrkBase. */
  get brkBase(): number {
    return this.brkStart;
  }

  /** The current program break. */
  get brkEnd(): number {
    return this.brkCurrent;
  }

  /** Returns the bytes of application memory installed in the address space (mm's resident set size). */
  residentBytes(): number {
    let total = 0;
    for (const pma of this.pmaSet.all) {
      total += pma.end - pma.start;
    }
    return total;
  }

  /** mmap(2): creates a mapping and returns its address. */
  mmap(request: MmapRequest): number {
    this.checkLive();
    const { addr, length, flags } = request;
    const offset = request.offset ?? 0;
    const prot = request.prot & PROT_ALL;
    const maxProt = (request.maxProt ?? PROT_ALL) & PROT_ALL;
    requireUnsigned(addr, length, offset, request.prot, flags);

    const anonymous = (flags & MAP_ANONYMOUS) !== 0;
    const type = flags & MAP_TYPE;
    const shared = type === MAP_SHARED || type === MAP_SHARED_VALIDATE;
    const growsDown = (flags & MAP_GROWSDOWN) !== 0 || request.growsDown === true;
    const file = anonymous ? undefined : request.file;

    if (!isPageAligned(offset)) {
      throw new SyscallError(Errno.EINVAL, `mmap offset ${offset} is not page-aligned`);
    }
    if (!anonymous && file === undefined) {
      throw new SyscallError(Errno.EBADF, "mmap of a file without a file");
    }
    if (length === 0) {
      throw new SyscallError(Errno.EINVAL, "mmap of length 0");
    }
    if (type !== MAP_SHARED && type !== MAP_PRIVATE && type !== MAP_SHARED_VALIDATE) {
      throw new SyscallError(Errno.EINVAL, `mmap flags ${hex(flags)} name neither MAP_SHARED nor MAP_PRIVATE`);
    }
    const size = pageAlignUp(length);
    if (size > this.userEnd - this.userStart) {
      throw new SyscallError(Errno.ENOMEM, `mmap length ${length} exceeds the address space`);
    }
    if (file !== undefined && offset + size > Number.MAX_SAFE_INTEGER) {
      throw new SyscallError(Errno.EOVERFLOW, `mmap offset ${offset} + length ${size} overflows`);
    }
    if (type === MAP_SHARED_VALIDATE) {
      if (anonymous) {
        throw new SyscallError(Errno.EINVAL, "MAP_SHARED_VALIDATE with MAP_ANONYMOUS");
      }
      if ((flags & ~MAP_VALIDATE_KNOWN) !== 0) {
        throw new SyscallError(Errno.EOPNOTSUPP, `unknown mmap flags ${hex(flags & ~MAP_VALIDATE_KNOWN)}`);
      }
    }
    if (shared && file !== undefined && file.translate === undefined) {
      throw new SyscallError(Errno.ENODEV, "the file cannot be mapped MAP_SHARED");
    }
    if (shared && anonymous && growsDown) {
      throw new SyscallError(Errno.EINVAL, "MAP_GROWSDOWN with shared anonymous memory");
    }
    // A private mapping never writes to the file, so only a shared one is limited by the open mode.
    const effectiveMaxProt = shared ? maxProt : PROT_ALL;
    if ((prot & ~effectiveMaxProt) !== 0) {
      throw new SyscallError(Errno.EACCES, `mmap prot ${hex(prot)} exceeds what the file's open mode allows`);
    }

    let start: number;
    if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0) {
      this.checkFixedRange(addr, size);
      if ((flags & MAP_FIXED_NOREPLACE) !== 0 && !this.vmaSet.isFree(addr, addr + size)) {
        throw new SyscallError(Errno.EEXIST, `MAP_FIXED_NOREPLACE at ${hex(addr)} overlaps a mapping`);
      }
      start = addr;
      this.unmapRange(start, start + size);
    } else if ((flags & MAP_32BIT) !== 0) {
      start = this.findPlacement32Bit(addr, size);
    } else {
      start = this.findPlacement(addr, size);
    }
    const end = start + size;

    let mappable: Mappable | null = file ?? null;
    const name = request.name ?? null;
    if (shared && anonymous) {
      mappable = new SharedAnonymousMemory(this.allocator, size);
    }
    // Anonymous memory, shared or private, starts at offset 0 of its object.
    const vmaOffset = anonymous ? 0 : offset;
    const vma = new Vma(start, end, prot, effectiveMaxProt, shared, growsDown, mappable, vmaOffset, name);
    mappable?.addMapping?.();
    this.vmaSet.insert(vma);
    this.vmaSet.mergeAround(start, end);

    if ((flags & (MAP_POPULATE | MAP_LOCKED)) !== 0 && prot !== 0) {
      // Like Linux, MAP_POPULATE writes only private writable mappings and ignores failures.
      this.faults.populate(start, end, !shared && (prot & PROT_WRITE) !== 0 ? PROT_WRITE : PROT_READ);
    }
    return start;
  }

  /** munmap(2): removes the mappings in [addr, addr+length). */
  munmap(addr: number, length: number): void {
    this.checkLive();
    requireUnsigned(addr, length);
    if (!isPageAligned(addr) || addr > this.userEnd || length > this.userEnd - addr) {
      throw new SyscallError(Errno.EINVAL, `invalid munmap range ${hex(addr)}+${length}`);
    }
    const size = pageAlignUp(length);
    if (size === 0) {
      throw new SyscallError(Errno.EINVAL, "munmap of length 0");
    }
    this.unmapRange(addr, addr + size);
  }

  /** mprotect(2): changes the protection of [addr, addr+length). */
  mprotect(addr: number, length: number, prot: number): void {
    this.checkLive();
    requireUnsigned(addr, length, prot);
    if (!isPageAligned(addr)) {
      throw new SyscallError(Errno.EINVAL, `mprotect address ${hex(addr)} is not page-aligned`);
    }
    if (length === 0) {
      return;
    }
    let start = addr;
    const end = addr + pageAlignUp(length);
    if (end > Number.MAX_SAFE_INTEGER) {
      throw new SyscallError(Errno.ENOMEM, "mprotect range overflows");
    }
    const grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
    if (grows === (PROT_GROWSDOWN | PROT_GROWSUP)) {
      throw new SyscallError(Errno.EINVAL, "mprotect with both PROT_GROWSDOWN and PROT_GROWSUP");
    }
    if ((prot & ~(PROT_ALL | PROT_SEM | PROT_GROWSDOWN | PROT_GROWSUP)) !== 0) {
      throw new SyscallError(Errno.EINVAL, `unknown mprotect bits ${hex(prot)}`);
    }
    const newProt = prot & PROT_ALL;

    const first = this.vmaSet.all[this.vmaSet.indexAfter(start)];
    if (first === undefined) {
      throw new SyscallError(Errno.ENOMEM, `no mapping at ${hex(addr)}`);
    }
    if ((grows & PROT_GROWSDOWN) !== 0) {
      if (first.start >= end) {
        throw new SyscallError(Errno.ENOMEM, `no mapping at ${hex(addr)}`);
      }
      if (!first.growsDown) {
        throw new SyscallError(Errno.EINVAL, "PROT_GROWSDOWN on a mapping that does not grow down");
      }
      start = first.start;
    } else if (first.start > start) {
      throw new SyscallError(Errno.ENOMEM, `no mapping at ${hex(addr)}`);
    }
    if ((grows & PROT_GROWSUP) !== 0) {
      throw new SyscallError(Errno.EINVAL, "PROT_GROWSUP: no mapping grows up on x86-64");
    }

    // Linux changes the VMAs in order and stops at the first error, keeping the changes made so far.
    try {
      let cursor = start;
      for (const vma of this.vmaSet.overlapping(start, end)) {
        if (vma.start > cursor) {
          throw new SyscallError(Errno.ENOMEM, `unmapped hole at ${hex(cursor)}`);
        }
        if ((newProt & ~vma.maxProt) !== 0) {
          throw new SyscallError(Errno.EACCES, `prot ${hex(newProt)} exceeds what the file's open mode allows`);
        }
        const pieceStart = Math.max(vma.start, start);
        const pieceEnd = Math.min(vma.end, end);
        if (vma.prot !== newProt) {
          this.vmaSet.splitAt(pieceStart);
          this.vmaSet.splitAt(pieceEnd);
          const piece = this.vmaSet.find(pieceStart) as Vma;
          piece.prot = newProt;
          this.pmaSet.protect(pieceStart, pieceEnd, newProt);
        }
        cursor = pieceEnd;
      }
      if (cursor < end) {
        throw new SyscallError(Errno.ENOMEM, `unmapped hole at ${hex(cursor)}`);
      }
    } finally {
      this.vmaSet.mergeAround(start, end);
    }
  }

  /**
   * mremap(2): grows, shrinks or moves the mapping at [oldAddr, oldAddr+oldSize)
   * and returns its new address. Pages move without being copied.
   */
  mremap(oldAddr: number, oldSize: number, newSize: number, flags: number, newAddr = 0): number {
    this.checkLive();
    requireUnsigned(oldAddr, oldSize, newSize, flags, newAddr);
    if ((flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) !== 0) {
      throw new SyscallError(Errno.EINVAL, `unknown mremap flags ${hex(flags)}`);
    }
    const mayMove = (flags & MREMAP_MAYMOVE) !== 0;
    const fixed = (flags & MREMAP_FIXED) !== 0;
    const dontUnmap = (flags & MREMAP_DONTUNMAP) !== 0;
    if (fixed && !mayMove) {
      throw new SyscallError(Errno.EINVAL, "MREMAP_FIXED without MREMAP_MAYMOVE");
    }
    if (dontUnmap && (!mayMove || oldSize !== newSize)) {
      throw new SyscallError(Errno.EINVAL, "MREMAP_DONTUNMAP needs MREMAP_MAYMOVE and equal sizes");
    }
    if (!isPageAligned(oldAddr)) {
      throw new SyscallError(Errno.EINVAL, `mremap address ${hex(oldAddr)} is not page-aligned`);
    }
    let oldLength = pageAlignUp(oldSize);
    const newLength = pageAlignUp(newSize);
    if (newLength === 0) {
      throw new SyscallError(Errno.EINVAL, "mremap to size 0");
    }
    const vma = this.vmaSet.find(oldAddr);
    if (vma === undefined) {
      throw new SyscallError(Errno.EFAULT, `no mapping at ${hex(oldAddr)}`);
    }
    if (oldLength === 0 && !vma.shared) {
      throw new SyscallError(Errno.EINVAL, "mremap of old size 0 needs a shared mapping");
    }

    if (fixed || dontUnmap) {
      let target = newAddr;
      if (fixed) {
        if (!isPageAligned(newAddr)) {
          throw new SyscallError(Errno.EINVAL, `mremap new address ${hex(newAddr)} is not page-aligned`);
        }
        if (newLength > this.userEnd || newAddr > this.userEnd - newLength) {
          throw new SyscallError(Errno.EINVAL, `mremap target ${hex(newAddr)}+${newLength} is outside the address space`);
        }
        if (overlaps(oldAddr, oldAddr + Math.max(oldLength, PAGE_SIZE), newAddr, newAddr + newLength)) {
          throw new SyscallError(Errno.EINVAL, "mremap source and target overlap");
        }
        this.checkFixedRange(newAddr, newLength);
        this.unmapRange(newAddr, newAddr + newLength);
      }
      if (oldLength > newLength) {
        this.unmapRange(oldAddr + newLength, oldAddr + oldLength);
        oldLength = newLength;
      }
      const source = this.vmaSet.find(oldAddr);
      if (source === undefined || oldAddr + oldLength > source.end) {
        throw new SyscallError(Errno.EFAULT, `[${hex(oldAddr)}, +${oldLength}) is not inside one mapping`);
      }
      if (!fixed) {
        target = this.findPlacement(0, newLength);
      }
      this.moveRange(oldAddr, oldLength, target, newLength, dontUnmap);
      return target;
    }

    if (oldLength >= newLength) {
      if (oldLength > newLength) {
        this.unmapRange(oldAddr + newLength, oldAddr + oldLength);
      }
      return oldAddr;
    }

    if (oldAddr + oldLength > vma.end) {
      throw new SyscallError(Errno.EFAULT, `[${hex(oldAddr)}, +${oldLength}) is not inside one mapping`);
    }
    if (oldLength > 0 && oldAddr + oldLength === vma.end && this.canExpand(vma.end, oldAddr + newLength)) {
      const oldEnd = vma.end;
      vma.end = oldAddr + newLength;
      this.vmaSet.mergeAround(oldEnd, vma.end);
      return oldAddr;
    }
    if (!mayMove) {
      throw new SyscallError(Errno.ENOMEM, `cannot grow the mapping at ${hex(oldAddr)} in place`);
    }
    const target = this.findPlacement(0, newLength);
    this.moveRange(oldAddr, oldLength, target, newLength, false);
    return target;
  }

  /** Sets the start of the heap (the page-aligned end of the ELF data segment); brk starts there. */
  setBrkBase(addr: number): void {
    this.checkLive();
    if (!isUnsignedInteger(addr) || addr < this.userStart || addr > this.userEnd) {
      throw new RangeError(`invalid brk base ${addr}`);
    }
    this.brkStart = pageAlignUp(addr);
    this.brkCurrent = this.brkStart;
  }

  /**
   * brk(2): moves the program break to `addr` and returns the new break, or
   * the unchanged one when `addr` is below the heap or the heap cannot grow.
   *
   * NOTE: RLIMIT_DATA is not enforced; the heap grows until it meets another mapping.
   */
  brk(addr: number): number {
    this.checkLive();
    if (!isUnsignedInteger(addr) || this.brkStart < this.userStart || addr < this.brkStart || addr > this.userEnd) {
      return this.brkCurrent;
    }
    const newTop = pageAlignUp(addr);
    const oldTop = pageAlignUp(this.brkCurrent);
    if (newTop < oldTop) {
      this.unmapRange(newTop, oldTop);
    } else if (newTop > oldTop) {
      // Linux also keeps one page free between the new break and the next mapping.
      const guardEnd = Math.min(newTop + PAGE_SIZE, this.userEnd);
      if (!this.vmaSet.isFreeWithGuard(oldTop, guardEnd) || this.overlapsReserved(oldTop, newTop)) {
        return this.brkCurrent;
      }
      const heap = new Vma(oldTop, newTop, PROT_READ | PROT_WRITE, PROT_ALL, false, false, null, 0, HEAP_NAME);
      this.vmaSet.insert(heap);
      this.vmaSet.mergeAround(oldTop, newTop);
    }
    this.brkCurrent = addr;
    return addr;
  }

  /** madvise(2): applies `advice` to [addr, addr+length). */
  madvise(addr: number, length: number, advice: number): void {
    this.checkLive();
    requireUnsigned(addr, length, advice);
    if (!KNOWN_ADVICE.has(advice)) {
      throw new SyscallError(Errno.EINVAL, `unknown madvise advice ${advice}`);
    }
    if (!isPageAligned(addr)) {
      throw new SyscallError(Errno.EINVAL, `madvise address ${hex(addr)} is not page-aligned`);
    }
    const end = addr + pageAlignUp(length);
    if (end > Number.MAX_SAFE_INTEGER) {
      throw new SyscallError(Errno.EINVAL, "madvise range overflows");
    }
    if (end === addr) {
      return;
    }

    let cursor = addr;
    let hole = false;
    try {
      for (const vma of this.vmaSet.overlapping(addr, end)) {
        if (vma.start > cursor) {
          hole = true;
          if (advice === MADV_POPULATE_READ || advice === MADV_POPULATE_WRITE) {
            break;
          }
        }
        const pieceStart = Math.max(vma.start, addr);
        const pieceEnd = Math.min(vma.end, end);
        this.adviseVma(vma, pieceStart, pieceEnd, advice);
        cursor = pieceEnd;
      }
    } finally {
      this.vmaSet.mergeAround(addr, end);
    }
    if (hole || cursor < end) {
      throw new SyscallError(Errno.ENOMEM, `part of [${hex(addr)}, ${hex(end)}) is not mapped`);
    }
  }

  /**
   * Serves a page fault at `addr` caused by an `access` (Prot bits). On
   * success the page and its neighbours are installed in the address space;
   * otherwise the result names the signal the application gets.
   */
  handleFault(addr: number, access: number): FaultResult {
    this.checkLive();
    if (!isUnsignedInteger(addr) || !isUnsignedInteger(access)) {
      return { ok: false, signo: SIGSEGV, code: SEGV_MAPERR };
    }
    // A platform that cannot tell the kind of access reports a read.
    let accessType = (access & PROT_ALL) || PROT_READ;
    const pma = this.pmaSet.find(addr);
    if (pma !== undefined && allows(pma.prot, accessType)) {
      // The installed page already allows the reported access, so either the
      // platform could not tell a write from a read, or its mapping is stale.
      const vma = this.vmaSet.find(addr);
      if (pma.needCOW && vma !== undefined && (vma.prot & PROT_WRITE) !== 0) {
        accessType |= PROT_WRITE;
      } else {
        this.pmaSet.reinstall(pma);
        return { ok: true };
      }
    }
    switch (this.faults.fault(addr, accessType)) {
      case FaultCode.Ok:
        return { ok: true };
      case FaultCode.MapError:
        return { ok: false, signo: SIGSEGV, code: SEGV_MAPERR };
      case FaultCode.AccessError:
        return { ok: false, signo: SIGSEGV, code: SEGV_ACCERR };
      case FaultCode.BusError:
        return { ok: false, signo: SIGBUS, code: BUS_ADRERR };
    }
  }

  /**
   * Copies `length` bytes of application memory at `addr` into a new array,
   * faulting pages in as the application would. Throws SyscallError(EFAULT)
   * if any byte is unmapped or unreadable.
   */
  copyIn(addr: number, length: number): Uint8Array {
    this.checkLive();
    if (!isUnsignedInteger(length)) {
      throw new SyscallError(Errno.EFAULT, `invalid length ${length}`);
    }
    const target = new Uint8Array(length);
    this.copyInto(addr, target);
    return target;
  }

  /** Fills `target` from application memory at `addr`, like copyIn without allocating. */
  copyInto(addr: number, target: Uint8Array): void {
    this.checkLive();
    this.access(addr, target.length, PROT_READ, (memfdOffset, position, length) => {
      this.memoryFile.read(memfdOffset, target.subarray(position, position + length));
    });
  }

  /**
   * Writes `data` to application memory at `addr`, respecting protections
   * and breaking copy-on-write. Throws SyscallError(EFAULT) if any byte is
   * unmapped or not writable; bytes before that point may have been written.
   */
  copyOut(addr: number, data: Uint8Array): void {
    this.checkLive();
    this.access(addr, data.length, PROT_WRITE, (memfdOffset, position, length) => {
      this.memoryFile.write(memfdOffset, data.subarray(position, position + length));
    });
  }

  /**
   * Copies application memory at `addr` into `target` up to the first byte
   * that cannot be read, and returns the number of bytes copied, as a
   * read-like system call that stops at a fault does. Unmapped memory
   * throws nothing: a result below `target.length` marks the fault.
   */
  copyInPartial(addr: number, target: Uint8Array): number {
    this.checkLive();
    return this.access(
      addr,
      target.length,
      PROT_READ,
      (memfdOffset, position, length) => {
        this.memoryFile.read(memfdOffset, target.subarray(position, position + length));
      },
      true,
    );
  }

  /**
   * Writes `data` to application memory at `addr` up to the first byte that
   * cannot be written, and returns the number of bytes written.
   */
  copyOutPartial(addr: number, data: Uint8Array): number {
    this.checkLive();
    return this.access(
      addr,
      data.length,
      PROT_WRITE,
      (memfdOffset, position, length) => {
        this.memoryFile.write(memfdOffset, data.subarray(position, position + length));
      },
      true,
    );
  }

  /**
   * Reads a NUL-terminated string at `addr` whose terminator lies within
   * `maxLength` bytes, decoded as UTF-8. Throws ENAMETOOLONG when it does
   * not, and EFAULT when unreadable memory comes before the terminator.
   *
   * NOTE: bytes that are not valid UTF-8 decode to U+FFFD, so such a path does not round-trip.
   */
  readCString(addr: number, maxLength: number): string {
    this.checkLive();
    if (!isUnsignedInteger(addr)) {
      throw new SyscallError(Errno.EFAULT, `invalid address ${addr}`);
    }
    if (!isUnsignedInteger(maxLength)) {
      throw new RangeError(`invalid maxLength ${maxLength}`);
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    let cursor = addr;
    while (total < maxLength) {
      const length = Math.min(maxLength - total, PAGE_SIZE - (cursor % PAGE_SIZE));
      const chunk = this.copyIn(cursor, length);
      const nul = chunk.indexOf(0);
      if (nul >= 0) {
        chunks.push(chunk.subarray(0, nul));
        return Buffer.concat(chunks).toString("utf8");
      }
      chunks.push(chunk);
      total += length;
      cursor += length;
    }
    throw new SyscallError(Errno.ENAMETOOLONG, `no NUL within ${maxLength} bytes at ${hex(addr)}`);
  }

  /**
   * Returns the memory-file offset of the byte at `addr` when it lies in a
   * shared mapping, faulting it in for reading, or undefined for private
   * memory. Futexes in shared memory are keyed by it, so processes that map
   * the same pages meet on the same futex. Throws EFAULT for a bad address.
   */
  sharedOffsetOf(addr: number): number | undefined {
    this.checkLive();
    const vma = this.vmaSet.find(addr);
    if (vma === undefined) throw new SyscallError(Errno.EFAULT, `bad address ${hex(addr)}`);
    if (!vma.shared) return undefined;
    let offset = 0;
    this.access(addr, 1, PROT_READ, (memfdOffset) => {
      offset = memfdOffset;
    });
    return offset;
  }

  /** Returns the VMAs in address order, as /proc/PID/maps lists them. */
  vmas(): readonly VmaInfo[] {
    return this.vmaSet.all.map((vma) => vma.info());
  }

  /**
   * Returns a copy of this address space for a child of fork(2), installed
   * in `addressSpace`. Private pages are shared copy-on-write and nothing is
   * copied up front; shared mappings share their pages. VMAs marked
   * MADV_DONTFORK are left out and MADV_WIPEONFORK ones start empty.
   */
  fork(addressSpace: AddressSpace): MemoryManager {
    this.checkLive();
    const child = new MemoryManager({
      memoryFile: this.memoryFile,
      allocator: this.allocator,
      addressSpace,
      userRange: { start: this.userStart, end: this.userEnd },
      reservedRanges: this.reserved,
      mmapBase: this.mmapBase,
      stackLimit: this.stackLimit,
    });
    child.brkStart = this.brkStart;
    child.brkCurrent = this.brkCurrent;

    for (const vma of this.vmaSet.all) {
      if (vma.dontFork) {
        continue;
      }
      child.vmaSet.insert(vma.slice(vma.start, vma.end));
      if (vma.wipeOnFork) {
        continue;
      }
      if (!vma.shared) {
        this.pmaSet.markCopyOnWrite(vma.start, vma.end);
      }
      for (const pma of this.pmaSet.slice(vma.start, vma.end)) {
        this.allocator.incRef(pma.offset, pma.end - pma.start);
        child.pmaSet.install(pma.start, pma.end, pma.offset, pma.prot, pma.isPrivate, pma.needCOW);
      }
      this.pmaSet.mergeAround(vma.start, vma.end);
    }
    return child;
  }

  /**
   * Unmaps every installed page from the address space and drops every VMA
   * and page reference. The address space itself is not released: its
   * creator does that. The MemoryManager cannot be used afterwards. Idempotent.
   *
   * A creator that releases the address space right afterwards passes
   * `unmapPages` false: releasing it removes every mapping at once, which
   * saves one host call per installed range.
   */
  release(unmapPages = true): void {
    if (this.released) {
      return;
    }
    this.pmaSet.clear(unmapPages);
    for (const vma of this.vmaSet.remove(0, Number.MAX_SAFE_INTEGER)) {
      vma.mappable?.removeMapping?.();
    }
    this.released = true;
  }

  /**
   * Calls `copy(memfdOffset, position, length)` for each piece of
   * [addr, addr+length) after faulting it in for `access`. At the first
   * piece that cannot be faulted in, it throws EFAULT, or returns the bytes
   * done so far when `partial` is set.
   */
  private access(
    addr: number,
    length: number,
    access: number,
    copy: (memfdOffset: number, position: number, length: number) => void,
    partial = false,
  ): number {
    if (!isUnsignedInteger(addr) || !isUnsignedInteger(length)) {
      throw new SyscallError(Errno.EFAULT, `bad address range ${addr}+${length}`);
    }
    const end = addr + length;
    let cursor = addr;
    while (cursor < end) {
      let pma = this.pmaSet.find(cursor);
      if (pma === undefined || !allows(pma.prot, access)) {
        const failed = cursor >= this.userEnd || this.faults.fault(cursor, access) !== FaultCode.Ok;
        pma = failed ? undefined : this.pmaSet.find(cursor);
        if (pma === undefined) {
          if (partial) {
            return cursor - addr;
          }
          throw new SyscallError(Errno.EFAULT, `bad address ${hex(cursor)}`);
        }
      }
      const pieceEnd = Math.min(end, pma.end);
      copy(pma.offsetOf(cursor), cursor - addr, pieceEnd - cursor);
      cursor = pieceEnd;
    }
    return length;
  }

  // Helpers of the system calls.

  private adviseVma(vma: Vma, start: number, end: number, advice: number): void {
    switch (advice) {
      case MADV_DONTNEED:
        this.pmaSet.remove(start, end);
        return;
      case MADV_FREE:
        if (vma.shared || !vma.anonymous) {
          throw new SyscallError(Errno.EINVAL, "MADV_FREE needs private anonymous memory");
        }
        this.pmaSet.remove(start, end);
        return;
      case MADV_REMOVE: {
        if (!vma.shared) {
          throw new SyscallError(Errno.EINVAL, "MADV_REMOVE needs a shared mapping");
        }
        if ((vma.prot & PROT_WRITE) === 0) {
          throw new SyscallError(Errno.EACCES, "MADV_REMOVE needs a writable mapping");
        }
        const mappable = vma.mappable as Mappable;
        if (mappable.punchHole === undefined) {
          throw new SyscallError(Errno.EOPNOTSUPP, "the mapped file cannot punch holes");
        }
        mappable.punchHole(vma.offsetOf(start), end - start);
        return;
      }
      case MADV_DONTFORK:
      case MADV_DOFORK:
        this.pieceOf(start, end).dontFork = advice === MADV_DONTFORK;
        return;
      case MADV_WIPEONFORK:
      case MADV_KEEPONFORK:
        if (vma.shared || !vma.anonymous) {
          throw new SyscallError(Errno.EINVAL, "MADV_WIPEONFORK needs private anonymous memory");
        }
        this.pieceOf(start, end).wipeOnFork = advice === MADV_WIPEONFORK;
        return;
      case MADV_POPULATE_READ:
      case MADV_POPULATE_WRITE: {
        const access = advice === MADV_POPULATE_WRITE ? PROT_WRITE : PROT_READ;
        if ((access & ~effectiveProt(vma.prot)) !== 0) {
          throw new SyscallError(Errno.EINVAL, "MADV_POPULATE on a mapping that forbids the access");
        }
        const code = this.faults.populate(start, end, access);
        if (code !== FaultCode.Ok) {
          throw new SyscallError(Errno.EFAULT, `cannot populate ${hex(start)}`);
        }
        return;
      }
      default:
        // Hints about paging, merging and huge pages change nothing here.
        return;
    }
  }

  /** Splits VMAs at `start` and `end` and returns the one that now spans exactly [start, end). */
  private pieceOf(start: number, end: number): Vma {
    this.vmaSet.splitAt(start);
    this.vmaSet.splitAt(end);
    return this.vmaSet.find(start) as Vma;
  }

  /** Removes every VMA and installed page in [start, end). */
  private unmapRange(start: number, end: number): void {
    this.pmaSet.remove(start, end);
    for (const vma of this.vmaSet.remove(start, end)) {
      vma.mappable?.removeMapping?.();
    }
  }

  /** Moves [oldAddr, oldAddr+oldLength), inside one VMA, to a free range at newAddr of newLength bytes. */
  private moveRange(oldAddr: number, oldLength: number, newAddr: number, newLength: number, keepOld: boolean): void {
    const oldEnd = oldAddr + oldLength;
    if (oldLength > 0) {
      this.vmaSet.splitAt(oldAddr);
      this.vmaSet.splitAt(oldEnd);
    }
    const source = this.vmaSet.find(oldAddr) as Vma;
    const moved = new Vma(
      newAddr,
      newAddr + newLength,
      source.prot,
      source.maxProt,
      source.shared,
      source.growsDown,
      source.mappable,
      source.mappable === null ? 0 : source.offsetOf(oldAddr),
      source.name,
    );
    moved.dontFork = source.dontFork;
    moved.wipeOnFork = source.wipeOnFork;
    moved.mappable?.addMapping?.();
    this.vmaSet.insert(moved);

    if (oldLength > 0) {
      this.pmaSet.move(oldAddr, oldEnd, newAddr - oldAddr);
      if (!keepOld) {
        for (const vma of this.vmaSet.remove(oldAddr, oldEnd)) {
          vma.mappable?.removeMapping?.();
        }
      }
      this.vmaSet.mergeAround(oldAddr, oldEnd);
    }
    this.vmaSet.mergeAround(newAddr, newAddr + newLength);
  }

  /** Reports whether the VMA ending at `from` may grow to `to`. */
  private canExpand(from: number, to: number): boolean {
    return to <= this.userEnd && this.vmaSet.isFree(from, to) && !this.overlapsReserved(from, to);
  }

  /** Checks an exact placement for MAP_FIXED, MAP_FIXED_NOREPLACE and MREMAP_FIXED. */
  private checkFixedRange(addr: number, size: number): void {
    if (!isPageAligned(addr)) {
      throw new SyscallError(Errno.EINVAL, `fixed address ${hex(addr)} is not page-aligned`);
    }
    if (addr < this.userStart) {
      throw new SyscallError(Errno.EPERM, `fixed address ${hex(addr)} is below the lowest user address`);
    }
    if (addr + size > this.userEnd || this.overlapsReserved(addr, addr + size)) {
      throw new SyscallError(Errno.ENOMEM, `[${hex(addr)}, ${hex(addr + size)}) is outside the user address space`);
    }
  }

  /** Chooses an address for `size` bytes: the hint when it fits, else the highest gap below mmapBase. */
  private findPlacement(hint: number, size: number): number {
    if (hint !== 0) {
      const start = Math.max(pageAlignUp(hint), this.userStart);
      const end = start + size;
      if (end <= this.userEnd && this.vmaSet.isFreeWithGuard(start, end) && !this.overlapsReserved(start, end)) {
        return start;
      }
    }
    let start = this.vmaSet.findGapTopDown(size, this.userStart, Math.min(this.mmapBase, this.userEnd), this.reserved);
    if (start < 0) {
      start = this.vmaSet.findGapTopDown(size, this.userStart, this.userEnd, this.reserved);
    }
    if (start < 0) {
      throw new SyscallError(Errno.ENOMEM, `no free range of ${size} bytes`);
    }
    return start;
  }

  /** Chooses an address for MAP_32BIT: the hint when it fits below 2 GiB, else a gap in [1 GiB, 2 GiB). */
  private findPlacement32Bit(hint: number, size: number): number {
    if (hint !== 0) {
      const start = Math.max(pageAlignUp(hint), this.userStart);
      const end = start + size;
      if (end <= MAP_32BIT_END && this.vmaSet.isFreeWithGuard(start, end) && !this.overlapsReserved(start, end)) {
        return start;
      }
    }
    const low = Math.max(MAP_32BIT_START, this.userStart);
    const start = this.vmaSet.findGapTopDown(size, low, Math.min(MAP_32BIT_END, this.userEnd), this.reserved);
    if (start < 0) {
      throw new SyscallError(Errno.ENOMEM, `no free range of ${size} bytes below 2 GiB`);
    }
    return start;
  }

  private overlapsReserved(start: number, end: number): boolean {
    return overlapsAny(this.reserved, start, end);
  }

  private checkLive(): void {
    if (this.released) {
      throw new Error("the memory manager was released");
    }
  }
}

/** Throws EINVAL unless every value is a non-negative safe integer. */
function requireUnsigned(...values: number[]): void {
  for (const value of values) {
    if (!isUnsignedInteger(value)) {
      throw new SyscallError(Errno.EINVAL, `invalid argument ${value}`);
    }
  }
}

function hex(value: number): string {
  return `0x${value.toString(16)}`;
}
