import { formatEnum, formatFlags, tableOf, toUint64 } from "./format";

/** mmap(2) and mprotect(2) protection bits (include/uapi/asm-generic/mman-common.h). */
export const Prot = {
  PROT_NONE: 0x0,
  PROT_READ: 0x1,
  PROT_WRITE: 0x2,
  PROT_EXEC: 0x4,
  PROT_SEM: 0x8,
  PROT_GROWSDOWN: 0x01000000,
  PROT_GROWSUP: 0x02000000,
} as const;

/** mmap(2) flags of x86-64 (asm-generic/mman-common.h, linux/mman.h and asm/mman.h). */
export const MapFlags = {
  MAP_SHARED: 0x01,
  MAP_PRIVATE: 0x02,
  MAP_SHARED_VALIDATE: 0x03,
  MAP_DROPPABLE: 0x08,
  /** Mask of the mapping type: MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE or MAP_DROPPABLE. */
  MAP_TYPE: 0x0f,
  MAP_FIXED: 0x10,
  MAP_ANONYMOUS: 0x20,
  MAP_32BIT: 0x40,
  MAP_GROWSDOWN: 0x100,
  MAP_DENYWRITE: 0x800,
  MAP_EXECUTABLE: 0x1000,
  MAP_LOCKED: 0x2000,
  MAP_NORESERVE: 0x4000,
  MAP_POPULATE: 0x8000,
  MAP_NONBLOCK: 0x10000,
  MAP_STACK: 0x20000,
  MAP_HUGETLB: 0x40000,
  MAP_SYNC: 0x80000,
  MAP_FIXED_NOREPLACE: 0x100000,
  MAP_UNINITIALIZED: 0x4000000,
  /** The huge page size of MAP_HUGETLB is log2(size) shifted left by this many bits. */
  MAP_HUGE_SHIFT: 26,
  MAP_HUGE_MASK: 0x3f,
} as const;

/** The value mmap(2) returns on failure in C, `(void *) -1`. */
export const MAP_FAILED = -1;

/** mremap(2) flags (include/uapi/linux/mman.h). */
export const MremapFlags = {
  MREMAP_MAYMOVE: 1,
  MREMAP_FIXED: 2,
  MREMAP_DONTUNMAP: 4,
} as const;

/** msync(2) flags (asm-generic/mman-common.h). */
export const MsyncFlags = {
  MS_ASYNC: 1,
  MS_INVALIDATE: 2,
  MS_SYNC: 4,
} as const;

/** madvise(2) advice values (asm-generic/mman-common.h). */
export const MadviseAdvice = {
  MADV_NORMAL: 0,
  MADV_RANDOM: 1,
  MADV_SEQUENTIAL: 2,
  MADV_WILLNEED: 3,
  MADV_DONTNEED: 4,
  MADV_FREE: 8,
  MADV_REMOVE: 9,
  MADV_DONTFORK: 10,
  MADV_DOFORK: 11,
  MADV_MERGEABLE: 12,
  MADV_UNMERGEABLE: 13,
  MADV_HUGEPAGE: 14,
  MADV_NOHUGEPAGE: 15,
  MADV_DONTDUMP: 16,
  MADV_DODUMP: 17,
  MADV_WIPEONFORK: 18,
  MADV_KEEPONFORK: 19,
  MADV_COLD: 20,
  MADV_PAGEOUT: 21,
  MADV_POPULATE_READ: 22,
  MADV_POPULATE_WRITE: 23,
  MADV_DONTNEED_LOCKED: 24,
  MADV_COLLAPSE: 25,
  MADV_HWPOISON: 100,
  MADV_SOFT_OFFLINE: 101,
  MADV_GUARD_INSTALL: 102,
  MADV_GUARD_REMOVE: 103,
} as const;

const PROT_TABLE = tableOf(Prot, ["PROT_READ", "PROT_WRITE", "PROT_EXEC", "PROT_SEM", "PROT_GROWSDOWN", "PROT_GROWSUP"]);

const MAP_TYPE_TABLE = tableOf(MapFlags, ["MAP_SHARED", "MAP_PRIVATE", "MAP_SHARED_VALIDATE", "MAP_DROPPABLE"]);

const MAP_FLAG_TABLE = tableOf(MapFlags, [
  "MAP_FIXED", "MAP_ANONYMOUS", "MAP_32BIT", "MAP_NORESERVE", "MAP_POPULATE", "MAP_NONBLOCK", "MAP_GROWSDOWN",
  "MAP_DENYWRITE", "MAP_EXECUTABLE", "MAP_LOCKED", "MAP_STACK", "MAP_HUGETLB", "MAP_SYNC", "MAP_FIXED_NOREPLACE",
  "MAP_UNINITIALIZED",
]);

const MREMAP_TABLE = tableOf(MremapFlags, ["MREMAP_MAYMOVE", "MREMAP_FIXED", "MREMAP_DONTUNMAP"]);

const MSYNC_TABLE = tableOf(MsyncFlags, ["MS_ASYNC", "MS_INVALIDATE", "MS_SYNC"]);

const MADVISE_TABLE = tableOf(MadviseAdvice, Object.keys(MadviseAdvice) as (keyof typeof MadviseAdvice)[]);

/** Formats mmap(2) protection bits, as in `PROT_READ|PROT_WRITE` or `PROT_NONE`. */
export function formatProt(prot: number | bigint): string {
  return formatFlags(prot, PROT_TABLE, { zero: "PROT_NONE" });
}

/**
 * Formats mmap(2) flags as strace does: the mapping type first, then the
 * flags, then the huge page size as `21<<MAP_HUGE_SHIFT`.
 */
export function formatMapFlags(flags: number | bigint): string {
  const value = toUint64(flags);
  const typeBits = value & BigInt(MapFlags.MAP_TYPE);
  const hugeShift = BigInt(MapFlags.MAP_HUGE_SHIFT);
  const hugeSize = (value >> hugeShift) & BigInt(MapFlags.MAP_HUGE_MASK);
  const rest = value & ~BigInt(MapFlags.MAP_TYPE) & ~(BigInt(MapFlags.MAP_HUGE_MASK) << hugeShift);

  const parts: string[] = [];
  const typeName = MAP_TYPE_TABLE.find(([, bits]) => BigInt(bits) === typeBits)?.[0];
  if (typeName !== undefined) {
    parts.push(typeName);
  } else if (typeBits !== 0n) {
    parts.push(`0x${typeBits.toString(16)} /* MAP_??? */`);
  }
  if (rest !== 0n) {
    parts.push(formatFlags(rest, MAP_FLAG_TABLE));
  }
  if (hugeSize !== 0n) {
    parts.push(`${hugeSize}<<MAP_HUGE_SHIFT`);
  }
  return parts.length === 0 ? "0" : parts.join("|");
}

/** Formats mremap(2) flags, as in `MREMAP_MAYMOVE`. */
export function formatMremapFlags(flags: number | bigint): string {
  return formatFlags(flags, MREMAP_TABLE);
}

/** Formats msync(2) flags, as in `MS_SYNC|MS_INVALIDATE`. */
export function formatMsyncFlags(flags: number | bigint): string {
  return formatFlags(flags, MSYNC_TABLE);
}

/** Formats a madvise(2) advice, as in `MADV_DONTNEED`. */
export function formatMadviseAdvice(advice: number | bigint): string {
  return formatEnum(advice, MADVISE_TABLE, "MADV_");
}
