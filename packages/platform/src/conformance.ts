// The conformance suite every Platform passes. Each platform package calls
// `definePlatformConformance` from a vitest test file with a factory that
// creates its platform over a real memfd.
import { UserRegsOffset } from "@sandbox/abi";
import { describe, expect, it } from "vitest";
import { type AddressSpace, type Context, type Platform, Prot, type Trap } from "./platform";

/** A platform under test and the memfd behind it. */
export interface ConformanceSubject {
  readonly platform: Platform;
  /** Writes bytes into the sandbox memfd at `offset`, growing it as needed. */
  writeMemory(offset: number, data: Uint8Array): void;
  /** Frees the platform and the memfd. */
  dispose(): void;
}

const PAGE = 4096;
const CODE_ADDR = 0x40_0000;
const DATA_ADDR = 0x60_0000;
const CODE_OFFSET = 0;
const DATA_OFFSET = PAGE;
const SEGV_MAPERR = 1;
const SEGV_ACCERR = 2;
const SIGSEGV = 11;
const SIGILL = 4;
const SIGTRAP = 5;

const SYSCALL = [0x0f, 0x05];
/** `mov eax, imm32` */
const movEax = (value: number) => [0xb8, value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff, (value >>> 24) & 0xff];

async function runUntilTrap(context: Context, as: AddressSpace): Promise<Trap> {
  return context.switchTo(as);
}

/** Defines the suite for one platform; `create` is called once per test. */
export function definePlatformConformance(name: string, create: () => ConformanceSubject): void {
  describe(`${name} platform conformance`, () => {
    function setUp(code: number[]) {
      const subject = create();
      const page = new Uint8Array(PAGE);
      page.set(code);
      subject.writeMemory(CODE_OFFSET, page);
      subject.writeMemory(DATA_OFFSET, new Uint8Array(PAGE));
      const as = subject.platform.newAddressSpace();
      as.mapFile(CODE_ADDR, PAGE, CODE_OFFSET, Prot.Read | Prot.Exec);
      const context = subject.platform.newContext();
      context.regs.rip = CODE_ADDR;
      return { subject, as, context };
    }

    it("traps a syscall with its registers", async () => {
      const { subject, as, context } = setUp([...movEax(39), ...SYSCALL]);
      try {
        const argOffsets = [UserRegsOffset.rdi, UserRegsOffset.rsi, UserRegsOffset.rdx, UserRegsOffset.r10, UserRegsOffset.r8, UserRegsOffset.r9];
        argOffsets.forEach((offset, i) => context.regs.set(offset, 0x1111_0000_0000_0000n + BigInt(i)));
        context.regs.set(UserRegsOffset.rbx, 0xdead_beef_cafe_f00dn);
        context.regs.set(UserRegsOffset.r15, 0x0123_4567_89ab_cdefn);
        const trap = await runUntilTrap(context, as);
        expect(trap.kind).toBe("syscall");
        expect(context.regs.syscallNumber).toBe(39);
        argOffsets.forEach((_, i) => expect(context.regs.syscallArg(i)).toBe(0x1111_0000_0000_0000n + BigInt(i)));
        expect(context.regs.get(UserRegsOffset.rbx)).toBe(0xdead_beef_cafe_f00dn);
        expect(context.regs.get(UserRegsOffset.r15)).toBe(0x0123_4567_89ab_cdefn);
        expect(context.regs.rip).toBe(CODE_ADDR + 7);
      } finally {
        subject.dispose();
      }
    });

    it("returns the syscall result in rax", async () => {
      // syscall; mov rdi, rax; syscall
      const { subject, as, context } = setUp([...movEax(110), ...SYSCALL, 0x48, 0x89, 0xc7, ...movEax(60), ...SYSCALL]);
      try {
        expect((await runUntilTrap(context, as)).kind).toBe("syscall");
        context.regs.setReturn(4242);
        expect((await runUntilTrap(context, as)).kind).toBe("syscall");
        expect(context.regs.syscallNumber).toBe(60);
        expect(context.regs.syscallArg(0)).toBe(4242n);
      } finally {
        subject.dispose();
      }
    });

    it("reads memory that mapFile installed", async () => {
      // mov rdi, [DATA_ADDR]; mov eax, 1; syscall
      const { subject, as, context } = setUp([0x48, 0x8b, 0x3c, 0x25, 0x00, 0x00, 0x60, 0x00, ...movEax(1), ...SYSCALL]);
      try {
        const data = new Uint8Array(PAGE);
        new DataView(data.buffer).setBigUint64(0, 0x5eed_5eedn, true);
        subject.writeMemory(DATA_OFFSET, data);
        as.mapFile(DATA_ADDR, PAGE, DATA_OFFSET, Prot.Read);
        expect((await runUntilTrap(context, as)).kind).toBe("syscall");
        expect(context.regs.syscallArg(0)).toBe(0x5eed_5eedn);
      } finally {
        subject.dispose();
      }
    });

    it("reports a read of unmapped memory", async () => {
      const { subject, as, context } = setUp([0x48, 0x8b, 0x3c, 0x25, 0x00, 0x00, 0x60, 0x00, ...SYSCALL]);
      try {
        const trap = await runUntilTrap(context, as);
        expect(trap.kind).toBe("fault");
        if (trap.kind !== "fault") return;
        expect(trap.signo).toBe(SIGSEGV);
        expect(trap.code).toBe(SEGV_MAPERR);
        expect(trap.addr).toBe(DATA_ADDR);
        expect(trap.access & Prot.Write).toBe(0);
        expect(context.regs.rip).toBe(CODE_ADDR);
      } finally {
        subject.dispose();
      }
    });

    it("reports a write to read-only memory", async () => {
      // mov qword [DATA_ADDR + 8], 1
      const { subject, as, context } = setUp([0x48, 0xc7, 0x04, 0x25, 0x08, 0x00, 0x60, 0x00, 0x01, 0x00, 0x00, 0x00, ...SYSCALL]);
      try {
        as.mapFile(DATA_ADDR, PAGE, DATA_OFFSET, Prot.Read);
        const trap = await runUntilTrap(context, as);
        expect(trap.kind).toBe("fault");
        if (trap.kind !== "fault") return;
        expect(trap.code).toBe(SEGV_ACCERR);
        expect(trap.addr).toBe(DATA_ADDR + 8);
        expect(trap.access & Prot.Write).toBe(Prot.Write);
      } finally {
        subject.dispose();
      }
    });

    it("runs again after the fault is fixed", async () => {
      const { subject, as, context } = setUp([0x48, 0xc7, 0x04, 0x25, 0x08, 0x00, 0x60, 0x00, 0x07, 0x00, 0x00, 0x00, ...movEax(39), ...SYSCALL]);
      try {
        expect((await runUntilTrap(context, as)).kind).toBe("fault");
        as.mapFile(DATA_ADDR, PAGE, DATA_OFFSET, Prot.Read | Prot.Write);
        expect((await runUntilTrap(context, as)).kind).toBe("syscall");
        expect(context.regs.syscallNumber).toBe(39);
      } finally {
        subject.dispose();
      }
    });

    it("reports an instruction fetch from non-executable memory", async () => {
      // jmp to DATA_ADDR: mov eax, DATA_ADDR; jmp rax
      const { subject, as, context } = setUp([...movEax(DATA_ADDR), 0xff, 0xe0]);
      try {
        as.mapFile(DATA_ADDR, PAGE, DATA_OFFSET, Prot.Read | Prot.Write);
        const trap = await runUntilTrap(context, as);
        expect(trap.kind).toBe("fault");
        if (trap.kind !== "fault") return;
        expect(trap.addr).toBe(DATA_ADDR);
        expect(trap.access & Prot.Exec).toBe(Prot.Exec);
      } finally {
        subject.dispose();
      }
    });

    it("sees unmap and protect", async () => {
      const { subject, as, context } = setUp([0x48, 0x8b, 0x3c, 0x25, 0x00, 0x00, 0x60, 0x00, ...movEax(1), ...SYSCALL]);
      try {
        as.mapFile(DATA_ADDR, PAGE, DATA_OFFSET, Prot.Read);
        as.unmap(DATA_ADDR, PAGE);
        expect((await runUntilTrap(context, as)).kind).toBe("fault");
        as.mapFile(DATA_ADDR, PAGE, DATA_OFFSET, Prot.None);
        expect((await runUntilTrap(context, as)).kind).toBe("fault");
        as.protect(DATA_ADDR, PAGE, Prot.Read);
        expect((await runUntilTrap(context, as)).kind).toBe("syscall");
      } finally {
        subject.dispose();
      }
    });

    it("uses the FS base", async () => {
      // mov rdi, fs:[0]; mov eax, 1; syscall
      const { subject, as, context } = setUp([0x64, 0x48, 0x8b, 0x3c, 0x25, 0x00, 0x00, 0x00, 0x00, ...movEax(1), ...SYSCALL]);
      try {
        const data = new Uint8Array(PAGE);
        new DataView(data.buffer).setBigUint64(16, 0xf5_ba5en, true);
        subject.writeMemory(DATA_OFFSET, data);
        as.mapFile(DATA_ADDR, PAGE, DATA_OFFSET, Prot.Read);
        context.regs.fsBase = BigInt(DATA_ADDR + 16);
        expect((await runUntilTrap(context, as)).kind).toBe("syscall");
        expect(context.regs.syscallArg(0)).toBe(0xf5_ba5en);
        expect(context.regs.fsBase).toBe(BigInt(DATA_ADDR + 16));
      } finally {
        subject.dispose();
      }
    });

    it("reports ud2 and int3 as signals", async () => {
      const { subject, as, context } = setUp([0x0f, 0x0b, 0xcc]);
      try {
        const ill = await runUntilTrap(context, as);
        expect(ill.kind).toBe("signal");
        if (ill.kind === "signal") expect(ill.signo).toBe(SIGILL);
        context.regs.rip = CODE_ADDR + 2;
        const trap = await runUntilTrap(context, as);
        expect(trap.kind).toBe("signal");
        if (trap.kind === "signal") expect(trap.signo).toBe(SIGTRAP);
      } finally {
        subject.dispose();
      }
    });

    it("keeps two contexts apart", async () => {
      const { subject, as, context } = setUp([...movEax(39), ...SYSCALL]);
      try {
        const other = subject.platform.newContext();
        other.regs.rip = CODE_ADDR;
        other.regs.set(UserRegsOffset.rbx, 2n);
        context.regs.set(UserRegsOffset.rbx, 1n);
        expect((await runUntilTrap(context, as)).kind).toBe("syscall");
        expect((await runUntilTrap(other, as)).kind).toBe("syscall");
        expect(context.regs.get(UserRegsOffset.rbx)).toBe(1n);
        expect(other.regs.get(UserRegsOffset.rbx)).toBe(2n);
      } finally {
        subject.dispose();
      }
    });

    it("interrupts a loop without syscalls", async () => {
      const { subject, as, context } = setUp([0xeb, 0xfe]);
      try {
        const timer = setTimeout(() => context.interrupt(), 50);
        const trap = await runUntilTrap(context, as);
        clearTimeout(timer);
        expect(trap.kind).toBe("interrupt");
        expect(context.regs.rip).toBe(CODE_ADDR);
      } finally {
        subject.dispose();
      }
    });

    it("refuses new address spaces after close", () => {
      const subject = create();
      subject.platform.close();
      expect(() => subject.platform.newAddressSpace()).toThrow();
      subject.dispose();
    });
  });
}
