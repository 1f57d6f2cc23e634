import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { availableParallelism } from "node:os";
import { UserRegsOffset, USER_REGS_NAMES } from "@sandbox/abi";
import { Prot } from "@sandbox/platform";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { assemble } from "./assemble";
import { ControlRegion } from "../src/ControlRegion";
import { Layout } from "../src/stub/image.generated";
import { SystrapPlatform } from "../src/SystrapPlatform";
import { Sandbox } from "./Sandbox";

const CODE = 0x40_0000;
const DATA = 0x60_0000;
const PAGE = 4096;
const SIGFPE = 8;
const SIGBUS = 7;
const SIGKILL = 9;
const FPE_INTDIV = 1;
const BUS_ADRERR = 2;
/** Offset of xmm0 in the FXSAVE area, and of MXCSR. */
const XMM0 = 160;
const MXCSR = 24;

/** Pids of this process's children that are systrap stubs. */
function stubChildren(): number[] {
  const pids: number[] = [];
  for (const tid of readdirSync("/proc/self/task")) {
    for (const child of readFileSync(`/proc/self/task/${tid}/children`, "utf8").split(" ").filter(Boolean)) {
      try {
        // The executable, since a stub that just started has not named itself yet.
        if (readlinkSync(`/proc/${child}/exe`).startsWith("/memfd:systrap-stub")) pids.push(Number(child));
      } catch {
        // The child ended meanwhile.
      }
    }
  }
  return pids;
}

describe("systrap contexts", () => {
  let sandbox: Sandbox;
  beforeEach(() => {
    sandbox = new Sandbox();
  });
  afterEach(() => sandbox.dispose());

  function load(source: string) {
    const as = sandbox.newAddressSpace();
    sandbox.map(as, CODE, PAGE, Prot.Read | Prot.Exec, assemble(source, CODE));
    const context = sandbox.newContext();
    context.regs.rip = CODE;
    return { as, context };
  }

  it("carries every general register both ways", async () => {
    const { as, context } = load("syscall\nsyscall");
    const writable = USER_REGS_NAMES.map((_, i) => i * 8).filter(
      (o) => ![UserRegsOffset.rip, UserRegsOffset.rcx, UserRegsOffset.r11, UserRegsOffset.origRax, UserRegsOffset.cs,
        UserRegsOffset.ss, UserRegsOffset.eflags, UserRegsOffset.rsp, UserRegsOffset.fsBase, UserRegsOffset.gsBase,
        UserRegsOffset.ds, UserRegsOffset.es, UserRegsOffset.fs, UserRegsOffset.gs].includes(o),
    );
    const value = (o: number, round: bigint) => 0x7100_0000_0000_0000n + round * 0x1_0000n + BigInt(o);
    for (const o of writable) context.regs.set(o, value(o, 1n));
    context.regs.rsp = 0x7000_1230;
    context.regs.set(UserRegsOffset.gsBase, 0x5000_0000n);

    expect((await context.switchTo(as)).kind).toBe("syscall");
    for (const o of writable) expect(context.regs.get(o), USER_REGS_NAMES[o / 8]).toBe(value(o, 1n));
    expect(context.regs.rsp).toBe(0x7000_1230);
    expect(context.regs.get(UserRegsOffset.gsBase)).toBe(0x5000_0000n);
    expect(context.regs.get(UserRegsOffset.rcx)).toBe(BigInt(CODE + 2));
    expect(context.regs.get(UserRegsOffset.cs)).toBe(0x33n);

    for (const o of writable) context.regs.set(o, value(o, 2n));
    expect((await context.switchTo(as)).kind).toBe("syscall");
    for (const o of writable) expect(context.regs.get(o), USER_REGS_NAMES[o / 8]).toBe(value(o, 2n));
    expect(context.regs.rip).toBe(CODE + 4);
  });

  it("reports a division by zero as SIGFPE with its address", async () => {
    const { as, context } = load("xor edx, edx\nxor ecx, ecx\nmov eax, 1\ndiv ecx");
    const trap = await context.switchTo(as);
    expect(trap).toEqual({ kind: "signal", signo: SIGFPE, code: FPE_INTDIV, addr: CODE + 9 });
    expect(context.regs.rip).toBe(CODE + 9);
  });

  it("reports an access past the end of the memory file as SIGBUS", async () => {
    const { as, context } = load(`mov rax, qword ptr [${DATA}]`);
    as.mapFile(DATA, PAGE, 1 << 30, Prot.Read);
    const trap = await context.switchTo(as);
    expect(trap.kind).toBe("fault");
    if (trap.kind !== "fault") return;
    expect(trap.signo).toBe(SIGBUS);
    expect(trap.code).toBe(BUS_ADRERR);
    expect(trap.addr).toBe(DATA);
  });

  it("starts with the initial FPU state and carries changes both ways", async () => {
    const { as, context } = load("movq xmm0, rbx\nmov eax, 39\nsyscall\nmovq rbx, xmm1\nmov eax, 40\nsyscall");
    context.regs.set(UserRegsOffset.rbx, 0x1234_5678_9abc_def0n);
    expect((await context.switchTo(as)).kind).toBe("syscall");

    const fp = context.fpState;
    const view = new DataView(fp.buffer, fp.byteOffset, fp.byteLength);
    expect(fp.length).toBeGreaterThanOrEqual(512);
    expect(view.getUint32(MXCSR, true)).toBe(0x1f80);
    expect(view.getBigUint64(XMM0, true)).toBe(0x1234_5678_9abc_def0n);
    expect(view.getBigUint64(XMM0 + 16, true)).toBe(0n);

    view.setBigUint64(XMM0 + 16, 0x0fed_cba9_8765_4321n, true);
    expect((await context.switchTo(as)).kind).toBe("syscall");
    expect(context.regs.syscallNumber).toBe(40);
    expect(context.regs.get(UserRegsOffset.rbx)).toBe(0x0fed_cba9_8765_4321n);
  });

  it("takes its FPU state along to another address space", async () => {
    const { as, context } = load("movq xmm0, rbx\nmov eax, 39\nsyscall");
    context.regs.set(UserRegsOffset.rbx, 0xabcdn);
    expect((await context.switchTo(as)).kind).toBe("syscall");

    const other = sandbox.newAddressSpace();
    sandbox.map(other, CODE, PAGE, Prot.Read | Prot.Exec, assemble("movq rbx, xmm0\nmov eax, 40\nsyscall", CODE));
    context.regs.rip = CODE;
    context.regs.set(UserRegsOffset.rbx, 0n);
    expect((await context.switchTo(other)).kind).toBe("syscall");
    expect(context.regs.get(UserRegsOffset.rbx)).toBe(0xabcdn);
  });

  it("reads and writes the FPU state", async () => {
    const { as, context } = load(`
        movq rbx, xmm0
        mov eax, 39
        syscall
        movq xmm1, rbx
        vpbroadcastq ymm0, xmm1
        mov eax, 39
        syscall
        movq rbx, xmm0
        vextracti128 xmm2, ymm0, 1
        movq rdx, xmm2
        mov eax, 40
        syscall`);
    const initial = new DataView(context.readFpState().buffer);
    expect(initial.byteLength).toBe(512);
    expect(initial.getUint16(0, true)).toBe(0x37f);
    expect(initial.getUint32(MXCSR, true)).toBe(0x1f80);

    // A context that never ran starts from the written image.
    const first = context.readFpState();
    new DataView(first.buffer).setBigUint64(XMM0, 0x1111n, true);
    context.writeFpState(first);
    expect((await context.switchTo(as)).kind).toBe("syscall");
    expect(context.regs.get(UserRegsOffset.rbx)).toBe(0x1111n);

    // After a run, the image is an XSAVE image; written back with a new XMM0,
    // it keeps the upper halves of the YMM registers.
    context.regs.set(UserRegsOffset.rbx, 0x2222n);
    expect((await context.switchTo(as)).kind).toBe("syscall");
    const state = context.readFpState();
    const view = new DataView(state.buffer);
    expect(state.length).toBeGreaterThan(512);
    expect(view.getBigUint64(XMM0, true)).toBe(0x2222n);
    view.setBigUint64(XMM0, 0x3333n, true);
    context.writeFpState(state);
    expect((await context.switchTo(as)).kind).toBe("syscall");
    expect(context.regs.syscallNumber).toBe(40);
    expect(context.regs.get(UserRegsOffset.rbx)).toBe(0x3333n);
    expect(context.regs.get(UserRegsOffset.rdx)).toBe(0x2222n);
    expect(() => context.writeFpState(new Uint8Array(100))).toThrow(RangeError);
  });

  it("runs many threads of one address space at once", async () => {
    const rounds = 200;
    const { as } = load(`
      loop:
        mov eax, 39
        syscall
        inc rbx
        cmp rbx, ${rounds}
        jb loop
        mov eax, 60
        syscall`);
    const threads = 6;
    const contexts = Array.from({ length: threads }, (_, i) => {
      const c = sandbox.newContext();
      c.regs.rip = CODE;
      c.regs.set(UserRegsOffset.r12, BigInt(1000 + i));
      return c;
    });

    await Promise.all(
      contexts.map(async (c, i) => {
        for (let n = 0; ; n++) {
          const trap = await c.switchTo(as);
          expect(trap.kind).toBe("syscall");
          expect(c.regs.get(UserRegsOffset.r12)).toBe(BigInt(1000 + i));
          if (c.regs.syscallNumber === 60) {
            expect(n).toBe(rounds);
            return;
          }
          expect(c.regs.get(UserRegsOffset.rbx)).toBe(BigInt(n));
        }
      }),
    );
    expect(readdirSync(`/proc/${as.process.pid}/task`).length).toBe(threads + 1);
    // The Sentry views the slots in use, not the whole region.
    expect(as.process.control.bytes.length).toBeGreaterThanOrEqual(ControlRegion.slotOffset(threads));
    expect(as.process.control.bytes.length).toBeLessThan(Layout.CONTROL_SIZE);
  });

  it("views one slot of a new stub", () => {
    const as = sandbox.newAddressSpace();
    expect(as.process.control.bytes.length).toBe(ControlRegion.slotOffset(1));
  });

  it("makes queued mappings in order", async () => {
    const { as, context } = load(`
        mov rbx, qword ptr [${DATA}]
        mov eax, 39
        syscall
        mov rbx, qword ptr [${DATA}]
        mov eax, 39
        syscall
        mov rbx, qword ptr [${DATA}]`);
    const page = (value: bigint) => {
      const bytes = new Uint8Array(PAGE);
      new DataView(bytes.buffer).setBigUint64(0, value, true);
      return sandbox.allocate(PAGE, bytes);
    };
    const first = page(0x1111n);
    const second = page(0x2222n);
    as.mapFile(DATA, PAGE, first, Prot.Read);
    as.mapFile(DATA, PAGE, second, Prot.Read);
    expect((await context.switchTo(as)).kind).toBe("syscall");
    expect(context.regs.get(UserRegsOffset.rbx)).toBe(0x2222n);

    // The thread's slot exists now, so this switch needs no executor request at all.
    const requests = as.process.control.load(Layout.HDR_REQ_SEQ);
    as.mapFile(DATA, PAGE, first, Prot.Read);
    expect((await context.switchTo(as)).kind).toBe("syscall");
    expect(context.regs.get(UserRegsOffset.rbx)).toBe(0x1111n);
    if (as.process.sealed) expect(as.process.control.load(Layout.HDR_REQ_SEQ)).toBe(requests);

    as.mapFile(DATA, PAGE, second, Prot.Read);
    as.unmap(DATA, PAGE);
    const trap = await context.switchTo(as);
    expect(trap.kind).toBe("fault");
    if (trap.kind === "fault") expect(trap.addr).toBe(DATA);
  });

  it("unmaps after handed mappings", async () => {
    const { as, context } = load("loop: jmp loop");
    const other = sandbox.newContext();
    sandbox.map(as, CODE + 2 * PAGE, PAGE, Prot.Read | Prot.Exec, assemble(`mov rbx, qword ptr [${DATA}]\nmov eax, 39\nsyscall`, CODE + 2 * PAGE));
    other.regs.rip = CODE + 2 * PAGE;
    for (let round = 0; round < 50; round++) {
      sandbox.map(as, DATA, PAGE, Prot.Read);
      const running = context.switchTo(as);
      // The spinning thread got the mapping with its switch; the unmap must not overtake it.
      as.unmap(DATA, PAGE);
      const trap = await other.switchTo(as);
      expect(trap.kind, `round ${round}`).toBe("fault");
      context.interrupt();
      expect(await running).toEqual({ kind: "interrupt" });
      context.regs.rip = CODE;
    }
  });

  it("reuses the stub thread of a released context", async () => {
    const { as, context } = load("mov eax, 39\nsyscall");
    expect((await context.switchTo(as)).kind).toBe("syscall");
    context.release();
    const next = sandbox.newContext();
    next.regs.rip = CODE;
    expect((await next.switchTo(as)).kind).toBe("syscall");
    expect(next.fpState.length).toBeGreaterThan(0);
    expect(readdirSync(`/proc/${as.process.pid}/task`).length).toBe(2);
  });

  it("returns an interrupt at once for a context interrupted while stopped", async () => {
    const { as, context } = load("mov eax, 39\nsyscall");
    context.interrupt();
    expect(await context.switchTo(as)).toEqual({ kind: "interrupt" });
    expect((await context.switchTo(as)).kind).toBe("syscall");
  });

  it("returns SIGKILL when its stub process is killed, and keeps working for others", async () => {
    const { as, context } = load("loop: jmp loop");
    const pending = context.switchTo(as);
    setTimeout(() => process.kill(as.process.pid, "SIGKILL"), 20);
    expect(await pending).toEqual({ kind: "signal", signo: SIGKILL, code: 0, addr: 0 });
    expect(await context.switchTo(as)).toEqual({ kind: "signal", signo: SIGKILL, code: 0, addr: 0 });
    as.mapFile(DATA, PAGE, 0, Prot.Read);
    as.release();

    const fresh = load("mov eax, 39\nsyscall");
    expect((await fresh.context.switchTo(fresh.as)).kind).toBe("syscall");
  });

  it("uses almost no CPU while the Sentry keeps a thread waiting", async () => {
    const { as, context } = load("mov eax, 35\nsyscall\nmov eax, 60\nsyscall");
    expect((await context.switchTo(as)).kind).toBe("syscall");
    const ticks = () => {
      const fields = readFileSync(`/proc/${as.process.pid}/stat`, "utf8").split(") ")[1].split(" ");
      return Number(fields[11]) + Number(fields[12]);
    };
    const stubBefore = ticks();
    const sentryBefore = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 1000));
    const sentry = process.cpuUsage(sentryBefore);
    // Clock ticks are 10 ms: a sleeping stub shows 0 or 1 of the 100 in a second.
    expect(ticks() - stubBefore).toBeLessThanOrEqual(2);
    expect(sentry.user + sentry.system).toBeLessThan(50_000);
    expect((await context.switchTo(as)).kind).toBe("syscall");
    expect(context.regs.syscallNumber).toBe(60);
  });

  it("starts a spare stub for the next address space", async () => {
    const first = sandbox.newAddressSpace();
    const spares = stubChildren().filter((pid) => pid !== first.process.pid);
    expect(spares.length).toBe(1);
    const second = sandbox.newAddressSpace();
    expect(second.process.pid).toBe(spares[0]);
    const { context } = load("mov eax, 39\nsyscall");
    context.regs.rip = CODE;
    sandbox.map(second, CODE, PAGE, Prot.Read | Prot.Exec, assemble("mov eax, 39\nsyscall", CODE));
    expect((await context.switchTo(second)).kind).toBe("syscall");
  });

  it("starts a stub itself when the spare died", () => {
    const first = sandbox.newAddressSpace();
    const spare = stubChildren().filter((pid) => pid !== first.process.pid)[0];
    process.kill(spare, "SIGKILL");
    while (readFileSync(`/proc/${spare}/stat`, "utf8").split(") ")[1][0] !== "Z");
    const second = sandbox.newAddressSpace();
    expect(second.process.pid).not.toBe(spare);
    expect(second.process.dead).toBe(false);
  });

  it("names the stub process and every stub thread systrap-stub", async () => {
    const { as, context } = load("mov eax, 39\nsyscall");
    expect((await context.switchTo(as)).kind).toBe("syscall");
    const tasks = readdirSync(`/proc/${as.process.pid}/task`);
    expect(tasks.length).toBe(2);
    for (const tid of tasks) expect(readFileSync(`/proc/${as.process.pid}/task/${tid}/comm`, "utf8")).toBe("systrap-stub\n");
  });

  it("reports the CPU each trap ran on", async () => {
    const { as, context } = load("loop: mov eax, 39\nsyscall\njmp loop");
    const cpus = availableParallelism();
    const source = as.process.control.load(Layout.HDR_CPU_SOURCE);
    const flags = readFileSync("/proc/cpuinfo", "utf8");
    if (/\brdpid\b/.test(flags)) expect(source).toBe(Layout.CPU_SOURCE_RDPID);
    else if (/\brdtscp\b/.test(flags)) expect(source).toBe(Layout.CPU_SOURCE_RDTSCP);
    else expect(source).toBe(Layout.CPU_SOURCE_NONE);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      expect((await context.switchTo(as)).kind).toBe("syscall");
      seen.add(as.process.control.load(ControlRegion.slotOffset(0) + Layout.SLOT_CPU) >>> 0);
    }
    for (const cpu of seen) {
      if (source === Layout.CPU_SOURCE_NONE) expect(cpu).toBe(Layout.CPU_UNKNOWN);
      else expect(cpu).toBeLessThan(cpus);
    }
  });

  it("recycles a released stub cleanly", async () => {
    const secret = 0x5ec2e75ec2e75ec2n;
    const first = load(`mov rax, 0x${secret.toString(16)}\nmovq xmm0, rax\nmovq xmm7, rax\nmov rbx, rax\nmov r15, rax\nmov eax, 39\nsyscall`);
    expect((await first.context.switchTo(first.as)).kind).toBe("syscall");
    expect(first.context.regs.get(UserRegsOffset.rbx)).toBe(secret);
    const process = first.as.process;
    first.context.release();
    first.as.release();
    expect(process.dead).toBe(false);
    // The old process's memory is gone from it.
    expect(readFileSync(`/proc/${process.pid}/maps`, "utf8")).not.toMatch(/^0*400000-/m);

    const second = load("mov eax, 39\nsyscall\nmov eax, 39\nsyscall");
    expect(second.as.process).toBe(process);
    expect((await second.context.switchTo(second.as)).kind).toBe("syscall");
    expect((await second.context.switchTo(second.as)).kind).toBe("syscall");
    expect(second.context.regs.get(UserRegsOffset.rbx)).toBe(0n);
    expect(second.context.readFpState().subarray(XMM0, XMM0 + 16)).toEqual(new Uint8Array(16));
    // The secret is nowhere in the slot: registers, FPU image, signal stack.
    const slot = process.control.bytes.subarray(ControlRegion.slotOffset(0), ControlRegion.slotOffset(1));
    const pattern = new Uint8Array(new BigUint64Array([secret]).buffer);
    expect(Buffer.from(slot).indexOf(pattern)).toBe(-1);
  });

  it("kills a stub still running", async () => {
    const { as, context } = load("loop: jmp loop");
    const running = context.switchTo(as);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const process = as.process;
    context.release();
    as.release();
    expect(process.dead).toBe(true);
    void running;
    expect(sandbox.newAddressSpace().process).not.toBe(process);
  });

  it("gets traps through the futex when the Sentry does not spin", async () => {
    const futexOnly = new Sandbox({ spinMs: 0, sleepMs: 100 });
    try {
      const as = futexOnly.newAddressSpace();
      futexOnly.map(as, CODE, PAGE, Prot.Read | Prot.Exec, assemble("loop: mov eax, 39\nsyscall\njmp loop", CODE));
      const context = futexOnly.newContext();
      context.regs.rip = CODE;
      for (let i = 0; i < 100; i++) {
        expect((await context.switchTo(as)).kind).toBe("syscall");
        expect(context.regs.syscallNumber).toBe(39);
      }
    } finally {
      futexOnly.dispose();
    }
  });

  it("sleeps on both sides while the application waits, and wakes on the next switch", async () => {
    const slow = new Sandbox({ spinMs: 0, sleepMs: 0, stubSpin: 0 });
    try {
      const as = slow.newAddressSpace();
      slow.map(as, CODE, PAGE, Prot.Read | Prot.Exec, assemble("loop: mov eax, 39\nsyscall\njmp loop", CODE));
      const context = slow.newContext();
      context.regs.rip = CODE;
      expect((await context.switchTo(as)).kind).toBe("syscall");
      await new Promise((r) => setTimeout(r, 200));
      const status = readFileSync(`/proc/${as.process.pid}/task/${as.process.tids[0]}/stat`, "utf8");
      expect(status.split(") ")[1][0]).toBe("S");
      expect((await context.switchTo(as)).kind).toBe("syscall");
    } finally {
      slow.dispose();
    }
  });
});

describe("bad input", () => {
  let sandbox: Sandbox;
  beforeEach(() => {
    sandbox = new Sandbox();
  });
  afterEach(() => sandbox.dispose());

  it("rejects ranges and protections the platform cannot map", () => {
    const as = sandbox.newAddressSpace();
    expect(() => as.mapFile(CODE + 1, PAGE, 0, Prot.Read)).toThrow(RangeError);
    expect(() => as.mapFile(CODE, 100, 0, Prot.Read)).toThrow(RangeError);
    expect(() => as.mapFile(CODE, PAGE, 3, Prot.Read)).toThrow(RangeError);
    expect(() => as.mapFile(CODE, PAGE, 0, 8)).toThrow(RangeError);
    expect(() => as.mapFile(0, PAGE, 0, Prot.Read)).toThrow(RangeError);
    expect(() => as.mapFile(sandbox.platform.userRange.end, PAGE, 0, Prot.Read)).toThrow(RangeError);
    expect(() => as.unmap(sandbox.platform.userRange.end - PAGE, 2 * PAGE)).toThrow(RangeError);
    expect(() => as.protect(CODE, -PAGE, Prot.Read)).toThrow(RangeError);
    expect(() => as.mapFile(Number.NaN, PAGE, 0, Prot.Read)).toThrow(RangeError);
    expect(as.process.dead).toBe(false);
  });

  it("rejects switches it cannot make", async () => {
    const as = sandbox.newAddressSpace();
    const context = sandbox.newContext();
    const foreign = { mapFile() {}, unmap() {}, protect() {}, release() {} };
    await expect(context.switchTo(foreign)).rejects.toThrow(TypeError);
    sandbox.map(as, CODE, PAGE, Prot.Read | Prot.Exec, assemble("loop: jmp loop", CODE));
    context.regs.rip = CODE;
    const first = context.switchTo(as);
    await expect(context.switchTo(as)).rejects.toThrow(/already running/);
    context.interrupt();
    expect(await first).toEqual({ kind: "interrupt" });
    context.release();
    await expect(context.switchTo(as)).rejects.toThrow(/released/);
  });

  it("rejects options that make no sense", () => {
    expect(() => new SystrapPlatform({ memoryFile: sandbox.memoryFile, spinMs: -1 })).toThrow(RangeError);
    expect(() => new SystrapPlatform({ memoryFile: sandbox.memoryFile, spinMs: Number.NaN })).toThrow(RangeError);
    expect(() => new SystrapPlatform({ memoryFile: sandbox.memoryFile, sleepMs: 2000 })).toThrow(RangeError);
    expect(() => new SystrapPlatform({ memoryFile: sandbox.memoryFile, stubSpin: 1.5 })).toThrow(RangeError);
    expect(() => new SystrapPlatform({ memoryFile: sandbox.memoryFile, stubSpin: 1_000_000 })).toThrow(RangeError);
    expect(() => new SystrapPlatform({ memoryFile: sandbox.memoryFile, stubPause: -1 })).toThrow(RangeError);
    expect(() => new SystrapPlatform({ memoryFile: sandbox.memoryFile, stubPause: 1e9 })).toThrow(RangeError);
    expect(() => new SystrapPlatform({ memoryFile: { fd: -5 } })).toThrow(RangeError);
  });

  it("refuses new work after close, and closes twice", () => {
    sandbox.platform.close();
    sandbox.platform.close();
    expect(() => sandbox.platform.newAddressSpace()).toThrow(/closed/);
    expect(() => sandbox.platform.newContext()).toThrow(/closed/);
  });
});
