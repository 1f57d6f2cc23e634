import { readSync } from "node:fs";
import { FXSAVE_SIZE, FXSAVE_SW_RESERVED, Registers, UserRegsOffset, USER_CS, USER_DS, USER_EFLAGS, XFEATURE_MASK_FPSSE } from "@sandbox/abi";
import {
  type AddressRange,
  type AddressSpace,
  type Context,
  type Platform,
  type PlatformOptions,
  PlatformError,
  PlatformUnavailableError,
  Prot,
  type Trap,
} from "@sandbox/platform";
import { classifyException } from "./exceptions";
import { GuestMemory, PAGE_SIZE } from "./guest-memory";
import { KvmExit, KvmRegsOffset, KVM_XSAVE_SIZE, RunOffset, SegmentOffset, SregsOffset } from "./kvm-abi";
import { KvmMachine } from "./kvm-machine";
import { PageTable, Pte } from "./page-table";
import { SYSCALL_PORT, TRAMPOLINE_EXIT_RIP, TRAMPOLINE_VA, trampolinePage, TSS_LIMIT, TSS_OFFSET } from "./trampoline";

/** Lowest address the application may map (the host's usual vm.mmap_min_addr). */
const MIN_USER_ADDRESS = 0x10000;
/** Start of the platform's reserved top 512 GiB of the lower half (PML4 entry 255). */
const RESERVED_BASE = 0x7f80_0000_0000;
/** End of the lower half with 4-level paging. */
const LOWER_HALF_END = 0x8000_0000_0000;
const SIGSEGV = 11;
/** Where the start-up probe maps its code. */
const PROBE_ADDR = 0x40_0000;
const SI_KERNEL = 0x80;
const SEGV_ACCERR = 2;

/** Maps user_regs_struct fields to kvm_regs fields. */
const REGISTER_PAIRS: readonly (readonly [UserRegsOffset, KvmRegsOffset])[] = [
  [UserRegsOffset.rax, KvmRegsOffset.rax],
  [UserRegsOffset.rbx, KvmRegsOffset.rbx],
  [UserRegsOffset.rcx, KvmRegsOffset.rcx],
  [UserRegsOffset.rdx, KvmRegsOffset.rdx],
  [UserRegsOffset.rsi, KvmRegsOffset.rsi],
  [UserRegsOffset.rdi, KvmRegsOffset.rdi],
  [UserRegsOffset.rsp, KvmRegsOffset.rsp],
  [UserRegsOffset.rbp, KvmRegsOffset.rbp],
  [UserRegsOffset.r8, KvmRegsOffset.r8],
  [UserRegsOffset.r9, KvmRegsOffset.r9],
  [UserRegsOffset.r10, KvmRegsOffset.r10],
  [UserRegsOffset.r11, KvmRegsOffset.r11],
  [UserRegsOffset.r12, KvmRegsOffset.r12],
  [UserRegsOffset.r13, KvmRegsOffset.r13],
  [UserRegsOffset.r14, KvmRegsOffset.r14],
  [UserRegsOffset.r15, KvmRegsOffset.r15],
  [UserRegsOffset.rip, KvmRegsOffset.rip],
  [UserRegsOffset.eflags, KvmRegsOffset.rflags],
];

/** Options of the KVM platform. */
export interface KvmPlatformOptions extends PlatformOptions {
  /** The KVM device to open; /dev/kvm unless given. */
  readonly devicePath?: string;
}

/** An application address space: one set of guest page tables. */
export class KvmAddressSpace implements AddressSpace {
  constructor(
    readonly pageTable: PageTable,
    private readonly onRelease: (as: KvmAddressSpace) => void,
  ) {}

  mapFile(addr: number, length: number, offset: number, prot: number): void {
    this.pageTable.map(addr, length, offset, prot);
  }

  unmap(addr: number, length: number): void {
    this.pageTable.unmap(addr, length);
  }

  protect(addr: number, length: number, prot: number): void {
    this.pageTable.protect(addr, length, prot);
  }

  release(): void {
    this.pageTable.release();
    this.onRelease(this);
  }
}

/** One application thread: its registers and FPU state, run on the platform's vCPU. */
export class KvmContext implements Context {
  readonly regs = new Registers();
  /** The XSAVE image of this thread while another context owns the vCPU's FPU. */
  readonly xsave: Uint8Array;
  private interruptPending = false;

  constructor(private readonly platform: KvmPlatform) {
    this.regs.setNumber(UserRegsOffset.cs, USER_CS);
    this.regs.setNumber(UserRegsOffset.ss, USER_DS);
    this.regs.setNumber(UserRegsOffset.eflags, USER_EFLAGS);
    this.xsave = platform.initialXsave.slice();
  }

  switchTo(as: AddressSpace): Promise<Trap> {
    return this.platform.run(this, as as KvmAddressSpace);
  }

  /**
   * Returns the FXSAVE image (x87, MXCSR and XMM registers) at the last trap.
   * The guest runs without CR4.OSXSAVE, so that is its whole FPU state.
   */
  readFpState(): Uint8Array {
    const legacy = this.platform.fpuImageOf(this).slice(0, FXSAVE_SIZE);
    legacy.fill(0, FXSAVE_SW_RESERVED);
    return legacy;
  }

  /** Replaces the x87, MXCSR and XMM state that the next switch loads with a 512-byte FXSAVE image. */
  writeFpState(state: Uint8Array): void {
    if (state.length !== FXSAVE_SIZE) throw new RangeError(`FPU state must be ${FXSAVE_SIZE} bytes, got ${state.length}`);
    this.platform.takeFpuFrom(this);
    this.xsave.set(state.subarray(0, FXSAVE_SW_RESERVED));
    // KVM_SET_XSAVE loads x87 and SSE from the image only when their XSTATE_BV bits are set.
    const header = new DataView(this.xsave.buffer, this.xsave.byteOffset + FXSAVE_SIZE, 8);
    header.setBigUint64(0, header.getBigUint64(0, true) | XFEATURE_MASK_FPSSE, true);
  }

  /** Takes a pending interrupt request; true if there was one. */
  takeInterrupt(): boolean {
    const pending = this.interruptPending;
    this.interruptPending = false;
    return pending;
  }

  interrupt(): void {
    this.interruptPending = true;
  }

  release(): void {
    this.platform.forget(this);
  }
}

/**
 * The Platform over /dev/kvm. The application runs at CPL 3 in a guest whose
 * physical memory is the sandbox memfd (guest-physical address = memfd
 * offset) plus a small slot of the platform's own for page tables and the
 * trampoline. One vCPU serves every context in turn.
 *
 * On a PVM host (this project's machines) `syscall` enters the trampoline,
 * whose `out` exits to the Sentry; exceptions end KVM_RUN with
 * KVM_EXIT_SHUTDOWN and the vector in the vCPU events; the Sentry returns to
 * user mode by writing the registers through kvm_run's sync-register area
 * (the host-side return: PVM's EVENT_RETURN_USER could not be set up here,
 * see the README). A periodic timer signal, unblocked only inside KVM_RUN,
 * makes KVM_RUN return at least every `TICK_NS` so a guest that never traps
 * can hold neither the event loop nor the vCPU.
 */
export class KvmPlatform implements Platform {
  readonly name = "kvm";
  readonly userRange: AddressRange = { start: MIN_USER_ADDRESS, end: RESERVED_BASE };
  readonly reservedRanges: readonly AddressRange[] = [{ start: RESERVED_BASE, end: LOWER_HALF_END }];
  /** The FPU state of a new thread. */
  readonly initialXsave: Uint8Array;

  private readonly machine: KvmMachine;
  private readonly memory: GuestMemory;
  private readonly sharedTop: { index: number; table: number };
  private readonly addressSpaces = new Set<KvmAddressSpace>();
  private readonly memoryFd: number;
  private queue: Promise<unknown> = Promise.resolve();
  private fpuOwner: KvmContext | undefined;
  private loadedCr3 = -1;
  private loadedFsBase = -1n;
  private loadedGsBase = -1n;
  private closed = false;
  private readonly exitHandler = () => this.close();

  /**
   * Opens /dev/kvm (or `options.devicePath`) and sets up the VM; throws
   * PlatformUnavailableError with the reason if it cannot.
   */
  constructor(options: KvmPlatformOptions) {
    this.memoryFd = options.memoryFile.fd;
    this.machine = KvmMachine.open(options.devicePath ?? "/dev/kvm", options.memoryFile.fd, TRAMPOLINE_VA);
    this.memory = new GuestMemory(this.machine.platformBytes, this.machine.platformGpa);
    this.initialXsave = this.machine.getXsave();
    this.sharedTop = this.buildTrampolineTables();
    const boot = new PageTable(this.memory, this.sharedTop);
    this.machine.enterUserMode(boot.cr3, TRAMPOLINE_VA + TSS_OFFSET, TSS_LIMIT);
    this.loadedCr3 = boot.cr3;
    process.on("exit", this.exitHandler);
  }

  /** Which guest ABI this host needs: "pvm" (kvm_pvm module) or "vmx-svm". */
  get guestAbi(): "pvm" | "vmx-svm" {
    return this.machine.abi;
  }

  /**
   * The start-up probe: runs `mov eax, 39; syscall; mov rdi, rax; ud2` in a
   * fresh address space and checks that the system call comes back with its
   * number and rip, that a result written by the Sentry reaches the guest,
   * and that ud2 comes back as SIGILL. Synchronous: it runs before the event
   * loop matters. Throws PlatformUnavailableError otherwise.
   */
  probe(): void {
    const page = this.memory.allocate();
    const code = [
      ...[0xb8, 39, 0, 0, 0], // mov eax, 39: getppid
      ...[0x0f, 0x05], // syscall: must come back as a syscall trap with rip = PROBE_ADDR + 7
      ...[0x48, 0x89, 0xc7], // mov rdi, rax: copies the result the probe wrote
      ...[0x0f, 0x0b], // ud2: must come back as SIGILL
    ];
    this.memory.bytes.set(code, page * PAGE_SIZE);
    const as = this.newAddressSpace() as KvmAddressSpace;
    const context = this.newContext() as KvmContext;
    const runToTrap = (): Trap => {
      for (;;) {
        const trap = this.step(context, as);
        if (trap !== undefined) return trap;
      }
    };
    try {
      as.pageTable.map(PROBE_ADDR, PAGE_SIZE, this.memory.gpaOf(page), Prot.Read | Prot.Exec);
      context.regs.rip = PROBE_ADDR;
      const first = runToTrap();
      if (first.kind !== "syscall" || context.regs.syscallNumber !== 39 || context.regs.rip !== PROBE_ADDR + 7) {
        throw new Error(`a system call came back as ${JSON.stringify(first)} at rip 0x${context.regs.rip.toString(16)}`);
      }
      context.regs.setReturn(4242);
      const second = runToTrap();
      if (second.kind !== "signal" || second.signo !== 4) throw new Error(`ud2 came back as ${JSON.stringify(second)}`);
      if (context.regs.get(UserRegsOffset.rdi) !== 4242n) throw new Error("the result written by the Sentry did not reach the guest");
    } catch (error) {
      throw new PlatformUnavailableError("kvm", `start-up probe failed: ${(error as Error).message}`);
    } finally {
      context.release();
      as.release();
      this.memory.release(page);
    }
  }

  newAddressSpace(): AddressSpace {
    if (this.closed) throw new PlatformError("platform is closed");
    const as = new KvmAddressSpace(new PageTable(this.memory, this.sharedTop), (released) => this.addressSpaces.delete(released));
    this.addressSpaces.add(as);
    return as;
  }

  newContext(): Context {
    if (this.closed) throw new PlatformError("platform is closed");
    return new KvmContext(this);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    process.off("exit", this.exitHandler);
    this.addressSpaces.clear();
    this.machine.close();
  }

  /** Drops a released context's claim on the FPU. */
  forget(context: KvmContext): void {
    if (this.fpuOwner === context) this.fpuOwner = undefined;
  }

  /** Returns the XSAVE image of `context`: the vCPU's while it owns the FPU, or its own copy. */
  fpuImageOf(context: KvmContext): Uint8Array {
    return this.fpuOwner === context ? this.machine.getXsave() : context.xsave;
  }

  /** Saves the vCPU's FPU state into `context` if it owns the FPU, so that the next switch loads its copy. */
  takeFpuFrom(context: KvmContext): void {
    if (this.fpuOwner !== context) return;
    context.xsave.set(this.machine.getXsave());
    this.fpuOwner = undefined;
  }

  /** Runs `context` in `as` until it traps; callers are served one at a time since there is one vCPU. */
  run(context: KvmContext, as: KvmAddressSpace): Promise<Trap> {
    const result = this.queue.then(() => this.runNow(context, as));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async runNow(context: KvmContext, as: KvmAddressSpace): Promise<Trap> {
    if (context.takeInterrupt()) return { kind: "interrupt" };
    const trap = this.step(context, as);
    if (trap !== undefined) return trap;
    // The kick timer stopped the guest: let the event loop run, then give
    // the vCPU to the contexts queued meanwhile. Staying in this context
    // starved them, so threads that spun waiting for each other hung.
    await new Promise((resolve) => setImmediate(resolve));
    return { kind: "interrupt" };
  }

  /** Enters the guest once; returns the trap, or undefined when the kick timer ended KVM_RUN first. */
  private step(context: KvmContext, as: KvmAddressSpace): Trap | undefined {
    if (this.closed) throw new PlatformError("platform is closed");
    this.load(context, as);
    const reason = this.machine.run();
    this.save(context);
    return reason === KvmExit.INTR ? undefined : this.classify(context, as, reason);
  }

  private load(context: KvmContext, as: KvmAddressSpace): void {
    const machine = this.machine;
    const regs = machine.syncRegs;
    for (const [user, kvm] of REGISTER_PAIRS) regs.setBigUint64(kvm, context.regs.get(user), true);
    machine.markDirty(true, false);

    if (this.fpuOwner !== context) {
      if (this.fpuOwner !== undefined) this.fpuOwner.xsave.set(machine.getXsave());
      machine.setXsave(context.xsave);
      this.fpuOwner = context;
    }

    const pageTable = as.pageTable;
    if (pageTable.needsFlush) {
      // Host writes to guest page tables are invisible to the shadow MMU; re-registering the slot drops every shadow page.
      machine.flushShadowPages();
      pageTable.needsFlush = false;
    }
    const fsBase = context.regs.fsBase;
    const gsBase = context.regs.get(UserRegsOffset.gsBase);
    if (pageTable.cr3 !== this.loadedCr3 || fsBase !== this.loadedFsBase || gsBase !== this.loadedGsBase) {
      const sregs = machine.syncSregs;
      sregs.setBigUint64(SregsOffset.cr3, BigInt(pageTable.cr3), true);
      sregs.setBigUint64(SregsOffset.fs + SegmentOffset.base, fsBase, true);
      sregs.setBigUint64(SregsOffset.gs + SegmentOffset.base, gsBase, true);
      machine.markDirty(false, true);
      this.loadedCr3 = pageTable.cr3;
      this.loadedFsBase = fsBase;
      this.loadedGsBase = gsBase;
    }
  }

  private save(context: KvmContext): void {
    const regs = this.machine.syncRegs;
    for (const [user, kvm] of REGISTER_PAIRS) context.regs.set(user, regs.getBigUint64(kvm, true));
  }

  private classify(context: KvmContext, as: KvmAddressSpace, reason: number): Trap {
    const machine = this.machine;
    const regs = context.regs;
    if (reason === KvmExit.IO) {
      const port = machine.runView.getUint16(RunOffset.ioPort, true);
      if (port === SYSCALL_PORT && regs.rip === TRAMPOLINE_EXIT_RIP) {
        // The trampoline ran on the user's registers; rcx and r11 hold the user rip and rflags, as after a native syscall.
        regs.set(UserRegsOffset.rip, regs.get(UserRegsOffset.rcx));
        regs.set(UserRegsOffset.eflags, regs.get(UserRegsOffset.r11));
        regs.set(UserRegsOffset.origRax, regs.get(UserRegsOffset.rax));
        return { kind: "syscall" };
      }
      // The application itself executed in or out. Without ioperm, Linux sends SIGSEGV for port access.
      regs.rip = regs.rip - this.ioInstructionLength(as, regs.rip);
      regs.set(UserRegsOffset.origRax, -1n);
      return { kind: "signal", signo: SIGSEGV, code: SI_KERNEL, addr: 0 };
    }
    if (reason === KvmExit.SHUTDOWN) {
      regs.set(UserRegsOffset.origRax, -1n);
      const events = machine.syncEvents;
      const vector = events.getUint8(0 + 1);
      const errorCode = events.getUint32(4, true);
      const cr2 = Number(machine.syncSregs.getBigUint64(SregsOffset.cr2, true));
      const trap = classifyException(vector, errorCode, cr2, regs.rip);
      // A PROT_NONE page is not present to the MMU, but Linux reports an access error for it.
      if (trap.kind === "fault" && as.pageTable.isProtNone(trap.addr)) return { ...trap, code: SEGV_ACCERR };
      return trap;
    }
    const detail = reason === KvmExit.INTERNAL_ERROR ? ` (suberror ${machine.runView.getUint32(RunOffset.internalSuberror, true)})` : "";
    throw new PlatformError(`KVM_RUN ended with exit reason ${reason}${detail} at rip 0x${regs.rip.toString(16)}`);
  }

  /**
   * Length of the in/out instruction that ended just before `rip`: the
   * one-byte forms (ec-ef, 6c-6f) or the two-byte immediate forms (e4-e7),
   * with an operand-size or rep prefix counted in.
   */
  private ioInstructionLength(as: KvmAddressSpace, rip: number): number {
    const byteAt = (va: number): number => {
      const translation = as.pageTable.translate(va);
      if (translation === undefined) return -1;
      const buffer = new Uint8Array(1);
      readSync(this.memoryFd, buffer, 0, 1, translation.gpa);
      return buffer[0];
    };
    const isPrefix = (byte: number) => byte === 0x66 || byte === 0xf3 || byte === 0xf2;
    const last = byteAt(rip - 1);
    if ((last >= 0xec && last <= 0xef) || (last >= 0x6c && last <= 0x6f)) return isPrefix(byteAt(rip - 2)) ? 2 : 1;
    return isPrefix(byteAt(rip - 3)) ? 3 : 2;
  }

  /**
   * Builds the tables under PML4 entry 255 that map the trampoline page at
   * TRAMPOLINE_VA, read-only and executable. It carries the user bit: on this
   * host's PVM the handler at MSR_LSTAR faults on a supervisor-only page (see
   * the README). An application that jumps there only makes a system call.
   */
  private buildTrampolineTables(): { index: number; table: number } {
    const memory = this.memory;
    const code = memory.allocate();
    memory.bytes.set(trampolinePage(), code * PAGE_SIZE);
    const pdpt = memory.allocate();
    const pd = memory.allocate();
    const pt = memory.allocate();
    const last = 511;
    this.writeTableEntry(pdpt, last, memory.gpaOf(pd), Pte.Present | Pte.Writable | Pte.User);
    this.writeTableEntry(pd, last, memory.gpaOf(pt), Pte.Present | Pte.Writable | Pte.User);
    this.writeTableEntry(pt, last, memory.gpaOf(code), Pte.Present | Pte.User);
    return { index: 255, table: pdpt };
  }

  private writeTableEntry(table: number, index: number, gpa: number, flags: number): void {
    const at = table * PAGE_SIZE + index * 8;
    this.memory.view.setUint32(at, ((gpa % 0x1_0000_0000) & 0xffff_f000) | flags, true);
    this.memory.view.setUint32(at + 4, Math.floor(gpa / 0x1_0000_0000), true);
  }
}

/** Size of the XSAVE image each context keeps. */
export const XSAVE_SIZE = KVM_XSAVE_SIZE;
