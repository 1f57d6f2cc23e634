import { UserRegsOffset } from "@sandbox/abi";
import { type AddressSpace, type Context, PlatformUnavailableError, Prot, type Trap } from "@sandbox/platform";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryFile } from "../../mm/src/memory-file";
import { KvmPlatform } from "./kvm-platform";

const PAGE = 4096;
const CODE = 0x40_0000;
const DATA = 0x60_0000;
const SIGILL = 4;
const SIGTRAP = 5;
const SIGSEGV = 11;
const SEGV_MAPERR = 1;
const SEGV_ACCERR = 2;
const SI_KERNEL = 0x80;
const SYSCALL = [0x0f, 0x05];
/** mov eax, 39 (getppid) */
const GETPPID = [0xb8, 39, 0, 0, 0];

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.reverse()) cleanup();
  cleanups = [];
});

/** A platform over a fresh memfd with `code` mapped read+exec at CODE and a zero data page at offset PAGE. */
function setUp(code: number[]): { platform: KvmPlatform; as: AddressSpace; context: Context; memoryFile: MemoryFile } {
  const memoryFile = MemoryFile.create("kvm-test");
  cleanups.push(() => memoryFile.close());
  const platform = new KvmPlatform({ memoryFile });
  cleanups.push(() => platform.close());
  const page = new Uint8Array(2 * PAGE);
  page.set(code);
  memoryFile.grow(page.length);
  memoryFile.write(0, page);
  const as = platform.newAddressSpace();
  as.mapFile(CODE, PAGE, 0, Prot.Read | Prot.Exec);
  const context = platform.newContext();
  context.regs.rip = CODE;
  return { platform, as, context, memoryFile };
}

function expectSignal(trap: Trap, signo: number, code: number): void {
  expect(trap.kind).toBe("signal");
  if (trap.kind === "signal") expect([trap.signo, trap.code]).toEqual([signo, code]);
}

describe("KvmPlatform start-up", () => {
  it("passes its start-up probe", () => {
    const { platform } = setUp([]);
    expect(() => platform.probe()).not.toThrow();
    expect(platform.guestAbi).toBe("pvm");
  });

  it("reports a missing KVM device", () => {
    const memoryFile = MemoryFile.create("kvm-test");
    cleanups.push(() => memoryFile.close());
    const attempt = () => new KvmPlatform({ memoryFile, devicePath: "/nonexistent/kvm" });
    expect(attempt).toThrow(PlatformUnavailableError);
    expect(attempt).toThrow("platform kvm is not available: cannot open /nonexistent/kvm: ENOENT (2)");
  });

  it("reports a device that is not KVM", () => {
    const memoryFile = MemoryFile.create("kvm-test");
    cleanups.push(() => memoryFile.close());
    expect(() => new KvmPlatform({ memoryFile, devicePath: "/dev/null" })).toThrow("platform kvm is not available: /dev/null is not a KVM device: KVM_GET_API_VERSION failed: ENOTTY (25)");
  });
});

describe("KvmPlatform faults reach the application as Linux signals", () => {
  it("reports a null read as SEGV_MAPERR", async () => {
    // mov rax, [0]
    const { as, context } = setUp([0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0]);
    const trap = await context.switchTo(as);
    expect(trap).toEqual({ kind: "fault", signo: SIGSEGV, code: SEGV_MAPERR, addr: 0, access: Prot.Read });
    expect(context.regs.rip).toBe(CODE);
  });

  it("reports a read-only write as SEGV_ACCERR", async () => {
    // mov byte [DATA], 1
    const { as, context } = setUp([0xc6, 0x04, 0x25, 0x00, 0x00, 0x60, 0x00, 0x01]);
    as.mapFile(DATA, PAGE, PAGE, Prot.Read);
    expect(await context.switchTo(as)).toEqual({ kind: "fault", signo: SIGSEGV, code: SEGV_ACCERR, addr: DATA, access: Prot.Write });
  });

  it("reports PROT_NONE access as SEGV_ACCERR", async () => {
    const { as, context } = setUp([0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x60, 0x00]);
    as.mapFile(DATA, PAGE, PAGE, Prot.None);
    const trap = await context.switchTo(as);
    expect(trap.kind === "fault" && trap.code).toBe(SEGV_ACCERR);
  });

  it("reports ud2 and int3", async () => {
    const { as, context } = setUp([0x0f, 0x0b, 0xcc]);
    expectSignal(await context.switchTo(as), SIGILL, 2);
    expect(context.regs.rip).toBe(CODE);
    context.regs.rip = CODE + 2;
    expectSignal(await context.switchTo(as), SIGTRAP, SI_KERNEL);
    expect(context.regs.rip).toBe(CODE + 3);
  });

  it.each([
    ["hlt", [0xf4]],
    ["out 0x80, al", [0xe6, 0x80]],
    ["out dx, al", [0xee]],
    ["out 0x10, al (the trampoline's own port)", [0xe6, 0x10]],
    ["mov cr0, rax", [0x0f, 0x22, 0xc0]],
    ["cli", [0xfa]],
    ["wrmsr", [0x0f, 0x30]],
  ])("reports %s as SIGSEGV", async (_name, instruction) => {
    const { as, context } = setUp([...instruction, ...GETPPID, ...SYSCALL]);
    expectSignal(await context.switchTo(as), SIGSEGV, SI_KERNEL);
    expect(context.regs.rip).toBe(CODE);
    context.regs.rip = CODE + instruction.length;
    expect((await context.switchTo(as)).kind).toBe("syscall");
    expect(context.regs.syscallNumber).toBe(39);
  });
});

describe("KvmPlatform scheduling and state", () => {
  it("fires timers during a guest loop", async () => {
    const { as, context } = setUp([0xeb, 0xfe]);
    let fired = false;
    const timer = setTimeout(() => {
      fired = true;
    }, 20);
    cleanups.push(() => clearTimeout(timer));
    // Each kick of the timer ends the switch with an interrupt.
    do {
      const trap = await context.switchTo(as);
      expect(trap.kind).toBe("interrupt");
    } while (!fired);
    expect(context.regs.rip).toBe(CODE);
  });

  it("lets other contexts run while one loops", async () => {
    // jmp $ at CODE; getppid and syscall at CODE + 2.
    const { platform, as, context } = setUp([0xeb, 0xfe, ...GETPPID, ...SYSCALL]);
    const caller = platform.newContext();
    caller.regs.rip = CODE + 2;
    let looping = true;
    const loop = (async () => {
      while (looping) expect((await context.switchTo(as)).kind).toBe("interrupt");
    })();
    try {
      expect((await caller.switchTo(as)).kind).toBe("syscall");
    } finally {
      looping = false;
      await loop;
    }
  });

  it("keeps SSE registers per context", async () => {
    // movq xmm0, rdi; mov eax, 39; syscall; movq rdi, xmm0; mov eax, 39; syscall
    const movqXmm0Rdi = [0x66, 0x48, 0x0f, 0x6e, 0xc7];
    const movqRdiXmm0 = [0x66, 0x48, 0x0f, 0x7e, 0xc7];
    const { platform, as, context } = setUp([...movqXmm0Rdi, ...GETPPID, ...SYSCALL, ...movqRdiXmm0, ...GETPPID, ...SYSCALL]);
    const other = platform.newContext();
    other.regs.rip = CODE;
    context.regs.set(UserRegsOffset.rdi, 0x1111n);
    other.regs.set(UserRegsOffset.rdi, 0x2222n);
    expect((await context.switchTo(as)).kind).toBe("syscall");
    expect((await other.switchTo(as)).kind).toBe("syscall");
    context.regs.set(UserRegsOffset.rdi, 0n);
    other.regs.set(UserRegsOffset.rdi, 0n);
    expect((await context.switchTo(as)).kind).toBe("syscall");
    expect((await other.switchTo(as)).kind).toBe("syscall");
    expect(context.regs.get(UserRegsOffset.rdi)).toBe(0x1111n);
    expect(other.regs.get(UserRegsOffset.rdi)).toBe(0x2222n);
  });

  it("keeps two address spaces apart", async () => {
    // mov rdi, [DATA]; mov eax, 39; syscall
    const { platform, as, context, memoryFile } = setUp([0x48, 0x8b, 0x3c, 0x25, 0x00, 0x00, 0x60, 0x00, ...GETPPID, ...SYSCALL]);
    memoryFile.grow(3 * PAGE);
    memoryFile.write(PAGE, new Uint8Array([1]));
    memoryFile.write(2 * PAGE, new Uint8Array([2]));
    const second = platform.newAddressSpace();
    second.mapFile(CODE, PAGE, 0, Prot.Read | Prot.Exec);
    as.mapFile(DATA, PAGE, PAGE, Prot.Read);
    second.mapFile(DATA, PAGE, 2 * PAGE, Prot.Read);
    expect((await context.switchTo(as)).kind).toBe("syscall");
    expect(context.regs.syscallArg(0)).toBe(1n);
    context.regs.rip = CODE;
    expect((await context.switchTo(second)).kind).toBe("syscall");
    expect(context.regs.syscallArg(0)).toBe(2n);
  });

  it("sees a page remapped elsewhere", async () => {
    const { as, context, memoryFile } = setUp([0x48, 0x8b, 0x3c, 0x25, 0x00, 0x00, 0x60, 0x00, ...GETPPID, ...SYSCALL]);
    memoryFile.grow(3 * PAGE);
    memoryFile.write(PAGE, new Uint8Array([1]));
    memoryFile.write(2 * PAGE, new Uint8Array([2]));
    as.mapFile(DATA, PAGE, PAGE, Prot.Read);
    expect((await context.switchTo(as)).kind).toBe("syscall");
    as.mapFile(DATA, PAGE, 2 * PAGE, Prot.Read);
    context.regs.rip = CODE;
    expect((await context.switchTo(as)).kind).toBe("syscall");
    expect(context.regs.syscallArg(0)).toBe(2n);
  });
});
