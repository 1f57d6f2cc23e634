// The parts of the KVM ioctl interface (x86-64) this package uses: request
// numbers, exit reasons and the byte offsets of the structures it reads and
// writes. Values are those of <linux/kvm.h>.

/** ioctl request numbers. */
export const enum KvmIoctl {
  GET_API_VERSION = 0xae00,
  CREATE_VM = 0xae01,
  CHECK_EXTENSION = 0xae03,
  GET_VCPU_MMAP_SIZE = 0xae04,
  GET_SUPPORTED_CPUID = 0xc008ae05,
  SET_USER_MEMORY_REGION = 0x4020ae46,
  CREATE_VCPU = 0xae41,
  RUN = 0xae80,
  GET_REGS = 0x8090ae81,
  SET_REGS = 0x4090ae82,
  GET_SREGS = 0x8138ae83,
  SET_SREGS = 0x4138ae84,
  SET_MSRS = 0x4008ae89,
  SET_SIGNAL_MASK = 0x4004ae8b,
  SET_CPUID2 = 0x4008ae90,
  GET_VCPU_EVENTS = 0x8040ae9f,
  GET_XSAVE = 0x9000aea4,
  SET_XSAVE = 0x5000aea5,
}

/** The API version every KVM since Linux 2.6.22 reports. */
export const KVM_API_VERSION = 12;

/** Capability numbers for KVM_CHECK_EXTENSION. */
export const enum KvmCap {
  SYNC_REGS = 74,
  IMMEDIATE_EXIT = 136,
}

/** kvm_run.exit_reason values. */
export const enum KvmExit {
  IO = 2,
  HLT = 5,
  MMIO = 6,
  SHUTDOWN = 8,
  FAIL_ENTRY = 9,
  INTR = 10,
  INTERNAL_ERROR = 17,
}

/** kvm_run.kvm_valid_regs and kvm_dirty_regs bits. */
export const enum KvmSync {
  REGS = 1,
  SREGS = 2,
  EVENTS = 4,
}

/** Offsets in struct kvm_run. */
export const enum RunOffset {
  immediateExit = 1,
  exitReason = 8,
  ioDirection = 32,
  ioSize = 33,
  ioPort = 34,
  internalSuberror = 32,
  validRegs = 0x120,
  dirtyRegs = 0x128,
  syncRegs = 0x130,
  syncSregs = 0x1c0,
  syncEvents = 0x2f8,
}

/** Offsets in struct kvm_regs (all 8 bytes). */
export const enum KvmRegsOffset {
  rax = 0,
  rbx = 8,
  rcx = 16,
  rdx = 24,
  rsi = 32,
  rdi = 40,
  rsp = 48,
  rbp = 56,
  r8 = 64,
  r9 = 72,
  r10 = 80,
  r11 = 88,
  r12 = 96,
  r13 = 104,
  r14 = 112,
  r15 = 120,
  rip = 128,
  rflags = 136,
}

/** Size of struct kvm_regs. */
export const KVM_REGS_SIZE = 144;

/** Offsets of the segments and control registers in struct kvm_sregs. */
export const enum SregsOffset {
  cs = 0,
  ds = 24,
  es = 48,
  fs = 72,
  gs = 96,
  ss = 120,
  tr = 144,
  ldt = 168,
  cr0 = 224,
  cr2 = 232,
  cr3 = 240,
  cr4 = 248,
  efer = 264,
}

/** Size of struct kvm_sregs. */
export const KVM_SREGS_SIZE = 312;

/** Offsets in struct kvm_segment. */
export const enum SegmentOffset {
  base = 0,
  limit = 8,
  selector = 12,
  type = 14,
  present = 15,
  dpl = 16,
  db = 17,
  s = 18,
  l = 19,
  g = 20,
  avl = 21,
  unusable = 22,
}

/** Offsets in struct kvm_vcpu_events: the exception that is being delivered. */
export const enum EventsOffset {
  exceptionInjected = 0,
  exceptionNr = 1,
  exceptionHasErrorCode = 2,
  exceptionPending = 3,
  exceptionErrorCode = 4,
}

/** Size of struct kvm_xsave (with KVM_CAP_XSAVE2 up to 4096 on this host). */
export const KVM_XSAVE_SIZE = 4096;

/** MSR numbers. */
export const enum Msr {
  STAR = 0xc0000081,
  LSTAR = 0xc0000082,
  SYSCALL_MASK = 0xc0000084,
}

/** Signature that KVM_GET_MSRS of MSR 0x4b564d11 returns on a PVM host ("PVM"). */
export const PVM_SIGNATURE = 0x4d5650;
