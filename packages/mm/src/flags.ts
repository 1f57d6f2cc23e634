// Linux x86-64 values of the memory system calls (include/uapi/asm-generic/mman-common.h,
// include/uapi/linux/mman.h, arch/x86/include/uapi/asm/mman.h) and of the fault
// signals (include/uapi/asm-generic/siginfo.h). They are defined here until
// @sandbox/abi carries them.

/** Size of a page in bytes. */
export const PAGE_SIZE = 4096;
/** log2(PAGE_SIZE). */
export const PAGE_SHIFT = 12;

/** Page can be read. */
export const PROT_READ = 0x1;
/** Page can be written. */
export const PROT_WRITE = 0x2;
/** Page can be executed. */
export const PROT_EXEC = 0x4;
/** Page may be used for atomic operations (accepted and ignored, as on x86). */
export const PROT_SEM = 0x8;
/** Page cannot be accessed. */
export const PROT_NONE = 0x0;
/** mprotect(2): extend the change down to the start of a grows-down mapping. */
export const PROT_GROWSDOWN = 0x01000000;
/** mprotect(2): extend the change up to the end of a grows-up mapping (no x86 mapping grows up). */
export const PROT_GROWSUP = 0x02000000;
/** PROT_READ | PROT_WRITE | PROT_EXEC. */
export const PROT_ALL = 0x7;

/** Share changes with every other mapping of the object. */
export const MAP_SHARED = 0x01;
/** Changes are private to this mapping (copy-on-write). */
export const MAP_PRIVATE = 0x02;
/** MAP_SHARED that rejects unknown flags with EOPNOTSUPP. */
export const MAP_SHARED_VALIDATE = 0x03;
/** Mask of the mapping type field. */
export const MAP_TYPE = 0x0f;
/** Place the mapping exactly at the address, replacing what is there. */
export const MAP_FIXED = 0x10;
/** The mapping is not backed by a file. */
export const MAP_ANONYMOUS = 0x20;
/** x86-64: place the mapping in the first 2 GiB (Linux uses [1 GiB, 2 GiB)); ignored with MAP_FIXED. */
export const MAP_32BIT = 0x40;
/** The mapping is a stack that grows down on faults below it. */
export const MAP_GROWSDOWN = 0x0100;
/** Ignored since Linux 2.6. */
export const MAP_DENYWRITE = 0x0800;
/** Ignored. */
export const MAP_EXECUTABLE = 0x1000;
/** Lock the pages in memory (here: populate them). */
export const MAP_LOCKED = 0x2000;
/** Do not reserve swap space (memory is never reserved here). */
export const MAP_NORESERVE = 0x4000;
/** Fault the whole mapping in before mmap returns. */
export const MAP_POPULATE = 0x8000;
/** With MAP_POPULATE, do not block (ignored). */
export const MAP_NONBLOCK = 0x10000;
/** Hint that the mapping is a thread stack (ignored, as on Linux). */
export const MAP_STACK = 0x20000;
/** Back the mapping with huge pages (here: ordinary pages). */
export const MAP_HUGETLB = 0x40000;
/** Synchronous page faults for DAX files (MAP_SHARED_VALIDATE only). */
export const MAP_SYNC = 0x80000;
/** Like MAP_FIXED, but fail with EEXIST instead of replacing a mapping. */
export const MAP_FIXED_NOREPLACE = 0x100000;
/** Do not clear anonymous pages (only honoured by kernels built for it; ignored). */
export const MAP_UNINITIALIZED = 0x4000000;

/** The flags that MAP_SHARED_VALIDATE accepts; any other bit makes it fail with EOPNOTSUPP. */
export const MAP_VALIDATE_KNOWN =
  MAP_TYPE |
  MAP_FIXED |
  MAP_ANONYMOUS |
  MAP_32BIT |
  MAP_GROWSDOWN |
  MAP_DENYWRITE |
  MAP_EXECUTABLE |
  MAP_LOCKED |
  MAP_NORESERVE |
  MAP_POPULATE |
  MAP_NONBLOCK |
  MAP_STACK |
  MAP_HUGETLB |
  MAP_SYNC |
  MAP_FIXED_NOREPLACE |
  MAP_UNINITIALIZED |
  (0x3f << 26); // MAP_HUGE_SHIFT size bits

/** mremap(2): the mapping may move to a new address. */
export const MREMAP_MAYMOVE = 1;
/** mremap(2): move to the address given as the fifth argument. */
export const MREMAP_FIXED = 2;
/** mremap(2): leave the old range mapped, without its pages. */
export const MREMAP_DONTUNMAP = 4;

/** madvise(2) advice values. */
export const MADV_NORMAL = 0;
export const MADV_RANDOM = 1;
export const MADV_SEQUENTIAL = 2;
export const MADV_WILLNEED = 3;
export const MADV_DONTNEED = 4;
export const MADV_FREE = 8;
export const MADV_REMOVE = 9;
export const MADV_DONTFORK = 10;
export const MADV_DOFORK = 11;
export const MADV_MERGEABLE = 12;
export const MADV_UNMERGEABLE = 13;
export const MADV_HUGEPAGE = 14;
export const MADV_NOHUGEPAGE = 15;
export const MADV_DONTDUMP = 16;
export const MADV_DODUMP = 17;
export const MADV_WIPEONFORK = 18;
export const MADV_KEEPONFORK = 19;
export const MADV_COLD = 20;
export const MADV_PAGEOUT = 21;
export const MADV_POPULATE_READ = 22;
export const MADV_POPULATE_WRITE = 23;
export const MADV_COLLAPSE = 25;
export const MADV_HWPOISON = 100;
export const MADV_SOFT_OFFLINE = 101;

/** Signal number of an invalid memory reference. */
export const SIGSEGV = 11;
/** Signal number of an access to a part of a file mapping past the end of the file. */
export const SIGBUS = 7;
/** si_code of SIGSEGV: no mapping at the address. */
export const SEGV_MAPERR = 1;
/** si_code of SIGSEGV: the mapping forbids this access. */
export const SEGV_ACCERR = 2;
/** si_code of SIGBUS: the address has no backing object (past the end of a file). */
export const BUS_ADRERR = 2;
