/**
 * Byte offsets of the fields of the x86-64 `struct user_regs_struct`
 * (arch/x86/include/asm/user_64.h), the register set that PTRACE_GETREGS and
 * PTRACE_SETREGS transfer. Every field is 8 bytes wide.
 */
export enum UserRegsOffset {
  r15 = 0,
  r14 = 8,
  r13 = 16,
  r12 = 24,
  rbp = 32,
  rbx = 40,
  r11 = 48,
  r10 = 56,
  r9 = 64,
  r8 = 72,
  rax = 80,
  rcx = 88,
  rdx = 96,
  rsi = 104,
  rdi = 112,
  origRax = 120,
  rip = 128,
  cs = 136,
  eflags = 144,
  rsp = 152,
  ss = 160,
  fsBase = 168,
  gsBase = 176,
  ds = 184,
  es = 192,
  fs = 200,
  gs = 208,
}

/** Size in bytes of `struct user_regs_struct`. */
export const USER_REGS_SIZE = 216;

/** Offsets of the six system call arguments in the order of the x86-64 syscall ABI. */
const SYSCALL_ARG_OFFSETS = [
  UserRegsOffset.rdi,
  UserRegsOffset.rsi,
  UserRegsOffset.rdx,
  UserRegsOffset.r10,
  UserRegsOffset.r8,
  UserRegsOffset.r9,
] as const;

/** Names of the general registers, in `user_regs_struct` order. */
export const USER_REGS_NAMES = [
  "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx",
  "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base", "gs_base", "ds",
  "es", "fs", "gs",
] as const;

/**
 * An x86-64 general register set laid out as `struct user_regs_struct`, so
 * that `bytes` can be handed to PTRACE_GETREGS/PTRACE_SETREGS as it is.
 * Values are read and written as unsigned 64-bit bigints; the `*Number`
 * helpers are for values known to fit in 53 bits, such as user addresses.
 */
export class Registers {
  /** The raw `user_regs_struct` bytes. */
  readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(bytes: Uint8Array = new Uint8Array(USER_REGS_SIZE)) {
    if (bytes.byteLength !== USER_REGS_SIZE) {
      throw new RangeError(`register set must be ${USER_REGS_SIZE} bytes, got ${bytes.byteLength}`);
    }
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Reads the field at `offset` (a UserRegsOffset). */
  get(offset: UserRegsOffset): bigint {
    return this.view.getBigUint64(offset, true);
  }

  /** Writes the field at `offset`; the value is truncated to 64 bits. */
  set(offset: UserRegsOffset, value: bigint): void {
    this.view.setBigUint64(offset, BigInt.asUintN(64, value), true);
  }

  /** Reads the field at `offset` as a number; exact below 2^53. */
  getNumber(offset: UserRegsOffset): number {
    const low = this.view.getUint32(offset, true);
    const high = this.view.getUint32(offset + 4, true);
    return high * 0x1_0000_0000 + low;
  }

  /** Writes a non-negative integer below 2^64 given as a number. */
  setNumber(offset: UserRegsOffset, value: number): void {
    this.view.setUint32(offset, value >>> 0, true);
    this.view.setUint32(offset + 4, Math.floor(value / 0x1_0000_0000) >>> 0, true);
  }

  /** Copies every field from `other`. */
  copyFrom(other: Registers): void {
    this.bytes.set(other.bytes);
  }

  /** Returns an independent copy. */
  clone(): Registers {
    return new Registers(this.bytes.slice());
  }

  /** The system call number of a syscall trap (`orig_rax`). */
  get syscallNumber(): number {
    return Number(BigInt.asIntN(64, this.get(UserRegsOffset.origRax)));
  }

  /** Reads system call argument `index` (0-5). */
  syscallArg(index: number): bigint {
    return this.view.getBigUint64(SYSCALL_ARG_OFFSETS[index], true);
  }

  /** Stores a system call's return value in rax; negative values are -errno. */
  setReturn(value: bigint | number): void {
    this.set(UserRegsOffset.rax, BigInt(value));
  }

  get rip(): number {
    return this.getNumber(UserRegsOffset.rip);
  }

  set rip(value: number) {
    this.setNumber(UserRegsOffset.rip, value);
  }

  get rsp(): number {
    return this.getNumber(UserRegsOffset.rsp);
  }

  set rsp(value: number) {
    this.setNumber(UserRegsOffset.rsp, value);
  }

  get fsBase(): bigint {
    return this.get(UserRegsOffset.fsBase);
  }

  set fsBase(value: bigint) {
    this.set(UserRegsOffset.fsBase, value);
  }
}

/** Segment selectors Linux gives 64-bit user code (arch/x86/include/asm/segment.h). */
export const USER_CS = 0x33;
export const USER_DS = 0x2b;

/** RFLAGS bit 1 is always set; IF (bit 9) is set for user code. */
export const USER_EFLAGS = 0x202;
