import { PlatformUnavailableError } from "@sandbox/platform";
import {
  KVM_API_VERSION,
  KVM_XSAVE_SIZE,
  KvmCap,
  KvmIoctl,
  KvmSync,
  Msr,
  PVM_SIGNATURE,
  RunOffset,
  SegmentOffset,
  SregsOffset,
} from "./kvm-abi";
import * as host from "./kvm.native";

/** Guest-physical size of the memory slot that maps the sandbox memfd at address 0. */
const MEMFD_SLOT_SIZE = 64 * 2 ** 30;
/** Guest-physical address of the platform's own slot (page tables, trampoline), just above the memfd slot. */
const PLATFORM_GPA = MEMFD_SLOT_SIZE;
/** Size of the platform's own slot: 16 MiB, 4096 table pages. */
const PLATFORM_SLOT_SIZE = 16 * 2 ** 20;
const MEMFD_SLOT = 0;
const PLATFORM_SLOT = 1;
/** The real-time signal that stops KVM_RUN; blocked in the thread everywhere else. */
const KICK_SIGNAL = 44;
/** How often the kick signal fires, so KVM_RUN returns at least this often. */
const TICK_NS = 4_000_000;
const MAX_CPUID_ENTRIES = 256;
const CPUID_ENTRY_SIZE = 40;
const KVM_GET_MSRS = 0xc008ae88;
const MSR_PVM_SIGNATURE = 0x4b564d11;
/** Selectors of the host GDT's 64-bit user code and data entries, which PVM runs the guest on. */
const USER_CS = 0x33;
const USER_DS = 0x2b;
/** Supervisor CS in MSR_STAR bits 47:32; SYSRET's base (user CS - 16) in bits 63:48. */
const STAR_VALUE = (0x23n << 48n) | (0x10n << 32n);
const CR0_PG_AM_WP_NE_ET_MP_PE = 0x8005_0033;
const CR4_PAE_OSFXSR_OSXMMEXCPT_FSGSBASE = (1 << 5) | (1 << 9) | (1 << 10) | (1 << 16);
const EFER_NXE_LMA_LME_SCE = 0xd01;

const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  6: "ENXIO",
  12: "ENOMEM",
  13: "EACCES",
  16: "EBUSY",
  19: "ENODEV",
  22: "EINVAL",
  25: "ENOTTY",
};

function errnoText(errno: number): string {
  return `${ERRNO_NAMES[errno] ?? "errno"} (${errno})`;
}

/**
 * The host side of one KVM virtual machine with one vCPU: the descriptors,
 * the memory slots, the kvm_run page with its sync-register area, and the
 * kick timer. Address spaces and traps are the platform's business.
 */
export class KvmMachine {
  /** kvm_run, including the sync-register area. */
  readonly runView: DataView;
  /** kvm_run.s.regs.regs (struct kvm_regs). */
  readonly syncRegs: DataView;
  /** kvm_run.s.regs.sregs (struct kvm_sregs). */
  readonly syncSregs: DataView;
  /** kvm_run.s.regs.events (struct kvm_vcpu_events). */
  readonly syncEvents: DataView;
  private dirty = 0;
  private closed = false;

  private constructor(
    private readonly kvmFd: number,
    private readonly vmFd: number,
    private readonly vcpuFd: number,
    private readonly memfdMapping: host.HostMapping,
    private readonly platformMapping: host.HostMapping,
    private readonly runMapping: host.HostMapping,
    private readonly timer: bigint,
    /** Which guest ABI this host needs. */
    readonly abi: "pvm" | "vmx-svm",
  ) {
    const bytes = runMapping.bytes;
    this.runView = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.syncRegs = new DataView(bytes.buffer, bytes.byteOffset + RunOffset.syncRegs, 144);
    this.syncSregs = new DataView(bytes.buffer, bytes.byteOffset + RunOffset.syncSregs, 312);
    this.syncEvents = new DataView(bytes.buffer, bytes.byteOffset + RunOffset.syncEvents, 64);
  }

  /** The platform slot's bytes. */
  get platformBytes(): Uint8Array {
    return this.platformMapping.bytes;
  }

  /** Guest-physical address of the platform slot. */
  get platformGpa(): number {
    return PLATFORM_GPA;
  }

  /**
   * Opens the KVM device at `devicePath` and builds the VM around `memfd`,
   * with `syscallEntry` in MSR_LSTAR. Throws
   * PlatformUnavailableError saying which step failed and why.
   */
  static open(devicePath: string, memfd: number, syscallEntry: number): KvmMachine {
    const fail = (what: string): never => {
      throw new PlatformUnavailableError("kvm", `${what}: ${errnoText(host.lastErrno())}`);
    };
    const kvmFd = host.openReadWrite(devicePath);
    if (kvmFd < 0) fail(`cannot open ${devicePath}`);
    const cleanups: (() => void)[] = [() => host.close(kvmFd)];
    try {
      const version = host.ioctlWithValue(kvmFd, KvmIoctl.GET_API_VERSION, 0);
      if (version < 0) fail(`${devicePath} is not a KVM device: KVM_GET_API_VERSION failed`);
      if (version !== KVM_API_VERSION) throw new PlatformUnavailableError("kvm", `${devicePath} speaks API version ${version}, not ${KVM_API_VERSION}`);
      const sync = host.ioctlWithValue(kvmFd, KvmIoctl.CHECK_EXTENSION, KvmCap.SYNC_REGS);
      const required = KvmSync.REGS | KvmSync.SREGS | KvmSync.EVENTS;
      if ((sync & required) !== required) throw new PlatformUnavailableError("kvm", `${devicePath} lacks KVM_CAP_SYNC_REGS for registers, segments and events`);

      const vmFd = host.ioctlWithValue(kvmFd, KvmIoctl.CREATE_VM, 0);
      if (vmFd < 0) fail("KVM_CREATE_VM failed");
      cleanups.push(() => host.close(vmFd));

      const memfdMapping = host.mapFile(memfd, MEMFD_SLOT_SIZE, 0) ?? fail("cannot map the memory file");
      cleanups.push(() => memfdMapping.unmap());
      const platformMapping = host.mapAnonymous(PLATFORM_SLOT_SIZE) ?? fail("cannot map the page-table memory");
      cleanups.push(() => platformMapping.unmap());
      if (setRegion(vmFd, MEMFD_SLOT, 0, MEMFD_SLOT_SIZE, memfdMapping.address) < 0) fail("KVM_SET_USER_MEMORY_REGION for the memory file failed");
      if (setRegion(vmFd, PLATFORM_SLOT, PLATFORM_GPA, PLATFORM_SLOT_SIZE, platformMapping.address) < 0) fail("KVM_SET_USER_MEMORY_REGION for page tables failed");

      const vcpuFd = host.ioctlWithValue(vmFd, KvmIoctl.CREATE_VCPU, 0);
      if (vcpuFd < 0) fail("KVM_CREATE_VCPU failed");
      cleanups.push(() => host.close(vcpuFd));
      const runSize = host.ioctlWithValue(kvmFd, KvmIoctl.GET_VCPU_MMAP_SIZE, 0);
      const runMapping = (runSize > 0 ? host.mapFile(vcpuFd, runSize, runSize) : undefined) ?? fail("cannot map kvm_run");
      cleanups.push(() => runMapping.unmap());

      const cpuid = new Uint8Array(8 + MAX_CPUID_ENTRIES * CPUID_ENTRY_SIZE);
      new DataView(cpuid.buffer).setUint32(0, MAX_CPUID_ENTRIES, true);
      if (host.ioctlWithBuffer(kvmFd, KvmIoctl.GET_SUPPORTED_CPUID, cpuid) < 0) fail("KVM_GET_SUPPORTED_CPUID failed");
      if (host.ioctlWithBuffer(vcpuFd, KvmIoctl.SET_CPUID2, cpuid) < 0) fail("KVM_SET_CPUID2 failed");

      const abi = readMsr(vcpuFd, MSR_PVM_SIGNATURE) === BigInt(PVM_SIGNATURE) ? "pvm" : "vmx-svm";
      if (abi !== "pvm") {
        // NOTE: the VMX/SVM guest ABI (IDT, sysretq) is not written yet, so such hosts are rejected.
        throw new PlatformUnavailableError("kvm", "this host's KVM is VMX or SVM, and only the PVM guest ABI is implemented; use --platform=systrap or ptrace");
      }

      const timer = startKick(vcpuFd);
      cleanups.push(() => host.stopThreadTimer(timer));
      const machine = new KvmMachine(kvmFd, vmFd, vcpuFd, memfdMapping, platformMapping, runMapping, timer, abi);
      machine.setSyscallEntry(syscallEntry);
      return machine;
    } catch (error) {
      for (const cleanup of cleanups.reverse()) cleanup();
      throw error;
    }
  }

  /** Points MSR_LSTAR at `entry` and sets MSR_STAR for the host's user selectors. */
  private setSyscallEntry(entry: number): void {
    const msrs = new DataView(new ArrayBuffer(8 + 2 * 16));
    msrs.setUint32(0, 2, true);
    const entries: [number, bigint][] = [
      [Msr.STAR, STAR_VALUE],
      [Msr.LSTAR, BigInt(entry)],
    ];
    entries.forEach(([index, value], i) => {
      msrs.setUint32(8 + i * 16, index, true);
      msrs.setBigUint64(8 + i * 16 + 8, value, true);
    });
    if (host.ioctlWithBuffer(this.vcpuFd, KvmIoctl.SET_MSRS, new Uint8Array(msrs.buffer)) !== 2) {
      throw new PlatformUnavailableError("kvm", `KVM_SET_MSRS of STAR and LSTAR failed: ${errnoText(host.lastErrno())}`);
    }
  }

  /** Marks the sync registers (`regs`) and segments (`sregs`) for KVM to load on the next entry. */
  markDirty(regs: boolean, sregs: boolean): void {
    this.dirty |= (regs ? KvmSync.REGS : 0) | (sregs ? KvmSync.SREGS : 0);
  }

  /**
   * Enters the guest until it exits; returns kvm_run.exit_reason, or
   * KvmExit.INTR when the kick signal (or another) stopped it.
   */
  run(): number {
    this.runView.setBigUint64(RunOffset.dirtyRegs, BigInt(this.dirty), true);
    this.dirty = 0;
    const result = host.ioctlWithValue(this.vcpuFd, KvmIoctl.RUN, 0);
    if (result < 0) {
      const errno = host.lastErrno();
      host.consumeSignal(KICK_SIGNAL);
      if (errno === 4) return 10;
      throw new Error(`KVM_RUN failed: ${errnoText(errno)}`);
    }
    return this.runView.getUint32(RunOffset.exitReason, true);
  }

  /** Reads the vCPU's XSAVE image. */
  getXsave(): Uint8Array {
    const image = new Uint8Array(KVM_XSAVE_SIZE);
    if (host.ioctlWithBuffer(this.vcpuFd, KvmIoctl.GET_XSAVE, image) < 0) throw new Error(`KVM_GET_XSAVE failed: ${errnoText(host.lastErrno())}`);
    return image;
  }

  /** Loads an XSAVE image into the vCPU. */
  setXsave(image: Uint8Array): void {
    if (host.ioctlWithBuffer(this.vcpuFd, KvmIoctl.SET_XSAVE, image) < 0) throw new Error(`KVM_SET_XSAVE failed: ${errnoText(host.lastErrno())}`);
  }

  /**
   * Makes KVM drop every shadow page so that changes the host made to guest
   * page tables take effect: deleting and re-adding a memory slot zaps all
   * shadow pages (KVM's default slot-zap quirk).
   */
  flushShadowPages(): void {
    const address = this.platformMapping.address;
    if (setRegion(this.vmFd, PLATFORM_SLOT, PLATFORM_GPA, 0, address) < 0 || setRegion(this.vmFd, PLATFORM_SLOT, PLATFORM_GPA, PLATFORM_SLOT_SIZE, address) < 0) {
      throw new Error(`re-registering the page-table slot failed: ${errnoText(host.lastErrno())}`);
    }
  }

  /** Frees the VM, its mappings and the timer. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    host.stopThreadTimer(this.timer);
    host.consumeSignal(KICK_SIGNAL);
    this.runMapping.unmap();
    this.platformMapping.unmap();
    this.memfdMapping.unmap();
    host.close(this.vcpuFd);
    host.close(this.vmFd);
    host.close(this.kvmFd);
  }

  /**
   * Puts the vCPU in 64-bit user mode on the host's user selectors, with
   * `cr3` as its first page-table root and TR at the TSS at `tssBase` with
   * limit `tssLimit`, and enables the sync-register area.
   */
  enterUserMode(cr3: number, tssBase: number, tssLimit: number): void {
    const sregs = new Uint8Array(312);
    if (host.ioctlWithBuffer(this.vcpuFd, KvmIoctl.GET_SREGS, sregs) < 0) throw new Error("KVM_GET_SREGS failed");
    const view = new DataView(sregs.buffer);
    const segment = (at: number, selector: number, code: boolean) => {
      view.setBigUint64(at + SegmentOffset.base, 0n, true);
      view.setUint32(at + SegmentOffset.limit, 0xffff_ffff, true);
      view.setUint16(at + SegmentOffset.selector, selector, true);
      view.setUint8(at + SegmentOffset.type, code ? 11 : 3);
      view.setUint8(at + SegmentOffset.present, 1);
      view.setUint8(at + SegmentOffset.dpl, 3);
      view.setUint8(at + SegmentOffset.db, code ? 0 : 1);
      view.setUint8(at + SegmentOffset.s, 1);
      view.setUint8(at + SegmentOffset.l, code ? 1 : 0);
      view.setUint8(at + SegmentOffset.g, 1);
      view.setUint8(at + SegmentOffset.unusable, 0);
    };
    segment(SregsOffset.cs, USER_CS, true);
    for (const at of [SregsOffset.ss, SregsOffset.ds, SregsOffset.es]) segment(at, USER_DS, false);
    for (const at of [SregsOffset.fs, SregsOffset.gs]) segment(at, 0, false);
    view.setBigUint64(SregsOffset.tr + SegmentOffset.base, BigInt(tssBase), true);
    view.setUint32(SregsOffset.tr + SegmentOffset.limit, tssLimit, true);
    view.setBigUint64(SregsOffset.cr3, BigInt(cr3), true);
    view.setBigUint64(SregsOffset.cr0, BigInt(CR0_PG_AM_WP_NE_ET_MP_PE), true);
    view.setBigUint64(SregsOffset.cr4, BigInt(CR4_PAE_OSFXSR_OSXMMEXCPT_FSGSBASE), true);
    view.setBigUint64(SregsOffset.efer, BigInt(EFER_NXE_LMA_LME_SCE), true);
    if (host.ioctlWithBuffer(this.vcpuFd, KvmIoctl.SET_SREGS, sregs) < 0) {
      throw new PlatformUnavailableError("kvm", `KVM_SET_SREGS for 64-bit user mode failed: ${errnoText(host.lastErrno())}`);
    }
    new Uint8Array(this.syncSregs.buffer, this.syncSregs.byteOffset, 312).set(sregs);
    this.runView.setBigUint64(RunOffset.validRegs, BigInt(KvmSync.REGS | KvmSync.SREGS | KvmSync.EVENTS), true);
  }
}

function setRegion(vmFd: number, slot: number, gpa: number, size: number, address: bigint): number {
  const region = new DataView(new ArrayBuffer(32));
  region.setUint32(0, slot, true);
  region.setUint32(4, 0, true);
  region.setBigUint64(8, BigInt(gpa), true);
  region.setBigUint64(16, BigInt(size), true);
  region.setBigUint64(24, address, true);
  return host.ioctlWithBuffer(vmFd, KvmIoctl.SET_USER_MEMORY_REGION, new Uint8Array(region.buffer));
}

/** Reads one MSR with KVM_GET_MSRS; undefined if KVM rejects the index. */
function readMsr(vcpuFd: number, index: number): bigint | undefined {
  const msrs = new DataView(new ArrayBuffer(24));
  msrs.setUint32(0, 1, true);
  msrs.setUint32(8, index, true);
  const bytes = new Uint8Array(msrs.buffer);
  if (host.ioctlWithBuffer(vcpuFd, KVM_GET_MSRS, bytes) !== 1) return undefined;
  return msrs.getBigUint64(16, true);
}

/**
 * Blocks the kick signal in this thread, lets KVM_RUN unblock it
 * (KVM_SET_SIGNAL_MASK), and starts the periodic timer aimed at this thread.
 */
function startKick(vcpuFd: number): bigint {
  const before = host.blockSignal(KICK_SIGNAL);
  const mask = new Uint8Array(12);
  new DataView(mask.buffer).setUint32(0, 8, true);
  mask.set(before, 4);
  mask[4 + ((KICK_SIGNAL - 1) >> 3)] &= ~(1 << ((KICK_SIGNAL - 1) & 7));
  if (host.ioctlWithBuffer(vcpuFd, KvmIoctl.SET_SIGNAL_MASK, mask) < 0) {
    throw new PlatformUnavailableError("kvm", `KVM_SET_SIGNAL_MASK failed: ${errnoText(host.lastErrno())}`);
  }
  return host.startThreadTimer(KICK_SIGNAL, host.gettid(), TICK_NS);
}
