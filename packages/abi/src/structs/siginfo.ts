import { toView } from "./view";

/** Size of `siginfo_t` on every Linux architecture. */
export const SIGINFO_SIZE = 128;

/**
 * Byte offsets of the fields of x86-64 `siginfo_t`. The union starts at 16,
 * and the signal and si_code decide which of its members are meaningful.
 * kill and tkill fill pid and uid, and SIGCHLD adds status, utime and stime.
 * SIGSEGV, SIGBUS, SIGILL and SIGFPE fill addr. POSIX timers fill timerid,
 * overrun and value. SIGSYS fills call_addr, syscall and arch.
 */
export const SiginfoOffset = {
  si_signo: 0,
  si_errno: 4,
  si_code: 8,
  si_pid: 16,
  si_uid: 20,
  si_status: 24,
  si_utime: 32,
  si_stime: 40,
  si_value: 24,
  si_timerid: 16,
  si_overrun: 20,
  si_addr: 16,
  si_addr_lsb: 24,
  si_lower: 32,
  si_upper: 40,
  si_pkey: 32,
  si_band: 16,
  si_fd: 24,
  si_call_addr: 16,
  si_syscall: 24,
  si_arch: 28,
} as const;

/**
 * A view of one `siginfo_t` in a byte array, read and written at the offsets
 * of SiginfoOffset. The view borrows `bytes`: writes go to the caller's buffer.
 */
export class SiginfoView {
  private readonly view: DataView;
  private readonly base: number;

  /** Wraps the 128 bytes at `offset` of `bytes`; throws RangeError when they do not fit. */
  constructor(readonly bytes: Uint8Array = new Uint8Array(SIGINFO_SIZE), offset = 0) {
    this.view = toView(bytes, offset, SIGINFO_SIZE, "siginfo");
    this.base = offset;
  }

  /** Zeroes all 128 bytes. */
  clear(): void {
    this.bytes.fill(0, this.base, this.base + SIGINFO_SIZE);
  }

  get signo(): number {
    return this.getInt32(SiginfoOffset.si_signo);
  }

  set signo(value: number) {
    this.setInt32(SiginfoOffset.si_signo, value);
  }

  get errno(): number {
    return this.getInt32(SiginfoOffset.si_errno);
  }

  set errno(value: number) {
    this.setInt32(SiginfoOffset.si_errno, value);
  }

  get code(): number {
    return this.getInt32(SiginfoOffset.si_code);
  }

  set code(value: number) {
    this.setInt32(SiginfoOffset.si_code, value);
  }

  /** Sending process of kill, tkill, sigqueue and SIGCHLD. */
  get pid(): number {
    return this.getInt32(SiginfoOffset.si_pid);
  }

  set pid(value: number) {
    this.setInt32(SiginfoOffset.si_pid, value);
  }

  /** Real user ID of the sender. */
  get uid(): number {
    return this.view.getUint32(this.base + SiginfoOffset.si_uid, true);
  }

  set uid(value: number) {
    this.view.setUint32(this.base + SiginfoOffset.si_uid, value, true);
  }

  /** SIGCHLD: the exit code or the signal, depending on si_code. */
  get status(): number {
    return this.getInt32(SiginfoOffset.si_status);
  }

  set status(value: number) {
    this.setInt32(SiginfoOffset.si_status, value);
  }

  /** SIGCHLD: user time consumed, in clock ticks. */
  get utime(): bigint {
    return this.view.getBigInt64(this.base + SiginfoOffset.si_utime, true);
  }

  set utime(value: bigint) {
    this.view.setBigInt64(this.base + SiginfoOffset.si_utime, BigInt.asIntN(64, value), true);
  }

  /** SIGCHLD: system time consumed, in clock ticks. */
  get stime(): bigint {
    return this.view.getBigInt64(this.base + SiginfoOffset.si_stime, true);
  }

  set stime(value: bigint) {
    this.view.setBigInt64(this.base + SiginfoOffset.si_stime, BigInt.asIntN(64, value), true);
  }

  /** sigqueue and timers: the `sigval` (si_int in the low 32 bits, si_ptr as a whole). */
  get value(): bigint {
    return this.view.getBigUint64(this.base + SiginfoOffset.si_value, true);
  }

  set value(value: bigint) {
    this.view.setBigUint64(this.base + SiginfoOffset.si_value, BigInt.asUintN(64, value), true);
  }

  /** Faults: the faulting address. */
  get addr(): bigint {
    return this.view.getBigUint64(this.base + SiginfoOffset.si_addr, true);
  }

  set addr(value: bigint) {
    this.view.setBigUint64(this.base + SiginfoOffset.si_addr, BigInt.asUintN(64, value), true);
  }

  /** SIGSYS: the system call number. */
  get syscall(): number {
    return this.getInt32(SiginfoOffset.si_syscall);
  }

  set syscall(value: number) {
    this.setInt32(SiginfoOffset.si_syscall, value);
  }

  /** SIGSYS: the AUDIT_ARCH_* value of the calling convention. */
  get arch(): number {
    return this.view.getUint32(this.base + SiginfoOffset.si_arch, true);
  }

  set arch(value: number) {
    this.view.setUint32(this.base + SiginfoOffset.si_arch, value, true);
  }

  private getInt32(offset: number): number {
    return this.view.getInt32(this.base + offset, true);
  }

  private setInt32(offset: number, value: number): void {
    this.view.setInt32(this.base + offset, value, true);
  }
}
