import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Prot, type Trap } from "@sandbox/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { futexWake } from "../src/host.native";
import { Layout, STUB_ELF_BASE64, StubSymbol } from "../src/stub/image.generated";
import type { SystrapAddressSpace } from "../src/SystrapAddressSpace";
import { compileStatic } from "./assemble";
import { Sandbox } from "./Sandbox";

// A hostile static program tries host system calls by every route it has.
// After each attempt the host is checked from outside: the file it would
// create, the process it would kill or trace, the descriptors and mappings
// of its stub.

const REPORT = 0x1000_0000;
const STACK_TOP = 0x2000_0000;
const PAGE = 4096;
const ENOSYS = 38;
const SYS_exit_group = 231;
const SYS_kick = 1000;
const MODE_PLAIN = 1;
const MODE_GADGET = 2;
const MODE_SCRIBBLE = 3;
const MODE_FORGE = 4;
/** open, openat, socket, kill, ptrace, execve, in the program's order. */
const HOST_CALLS = [2, 257, 41, 62, 101, 59];
/** Also tried through the stub's code: clone (as fork) and an anonymous mmap. */
const GADGET_CALLS = [...HOST_CALLS, 56, 9];

/** Addresses of every `syscall` instruction (0f 05, aligned or not) in the stub's code. */
function syscallGadgets(): number[] {
  const elf = Buffer.from(STUB_ELF_BASE64, "base64");
  const phoff = Number(elf.readBigUInt64LE(32));
  const fileOffset = Number(elf.readBigUInt64LE(phoff + 8));
  const vaddr = Number(elf.readBigUInt64LE(phoff + 16));
  const filesz = Number(elf.readBigUInt64LE(phoff + 32));
  const gadgets: number[] = [];
  for (let i = 0; i + 1 < filesz; i++) {
    if (elf[fileOffset + i] === 0x0f && elf[fileOffset + i + 1] === 0x05) gadgets.push(vaddr + i);
  }
  return gadgets;
}

interface Outcome {
  /** Numbers of the system calls that reached the Sentry. */
  readonly syscalls: number[];
  /** The trap that ended the run (exit_group is a syscall trap). */
  readonly last: Trap;
  /** The report page after the run. */
  readonly report: BigInt64Array;
  /** What the host shows of the stub process before it is ended. */
  readonly fds: string[];
  readonly maps: string;
  readonly threads: number;
}

describe("a hostile program under systrap", () => {
  let sandbox: Sandbox;
  let program: Uint8Array;
  let victim: ChildProcess;
  const marker = join(tmpdir(), `systrap-escape-${process.pid}`);

  beforeAll(() => {
    program = compileStatic(readFileSync(join(__dirname, "fixtures/escape.c"), "utf8"));
    victim = spawn("sleep", ["600"], { stdio: "ignore" });
    sandbox = new Sandbox();
  });

  afterAll(() => {
    sandbox?.dispose();
    victim?.kill("SIGKILL");
    rmSync(marker, { force: true });
  });

  function victimTracer(): string {
    return /TracerPid:\s*(\d+)/.exec(readFileSync(`/proc/${victim.pid}/status`, "utf8"))![1];
  }

  function expectHostUntouched(outcome: Outcome): void {
    expect(existsSync(marker), "the program created a host file").toBe(false);
    expect(victim.exitCode, "the victim exited").toBeNull();
    expect(victim.signalCode, "the victim was killed").toBeNull();
    expect(victimTracer(), "the victim was traced").toBe("0");
    for (const fd of outcome.fds) {
      expect(["0", "1", "2", "3", "4", "5"], `the stub has a new descriptor ${fd}`).toContain(fd.split(" ")[0]);
    }
  }

  async function run(mode: number, setUp: (report: DataView) => void = () => {}): Promise<Outcome> {
    const as = sandbox.newAddressSpace() as SystrapAddressSpace;
    const entry = sandbox.loadElf(as, program);
    const page = new Uint8Array(PAGE);
    const report = new DataView(page.buffer);
    report.setBigInt64(0, BigInt(mode), true);
    report.setBigInt64(24, BigInt(victim.pid!), true);
    page.set(Buffer.from(`${marker}\0`), 0x800);
    setUp(report);
    const reportOffset = sandbox.map(as, REPORT, PAGE, Prot.Read | Prot.Write, page);
    sandbox.map(as, STACK_TOP - 16 * PAGE, 16 * PAGE, Prot.Read | Prot.Write);

    const context = sandbox.newContext();
    context.regs.rip = entry;
    context.regs.rsp = STACK_TOP - 64;
    const syscalls: number[] = [];
    const watchdog = setTimeout(() => context.interrupt(), 2000);
    const killer = setTimeout(() => as.release(), 4000);
    let last: Trap = { kind: "interrupt" };
    let fds: string[] = [];
    let maps = "";
    let threads = 0;
    try {
      for (let n = 0; n < 1000; n++) {
        last = await context.switchTo(as);
        if (!as.process.dead) {
          fds = readdirSync(`/proc/${as.process.pid}/fd`).map((fd) => {
            try {
              return `${fd} ${readlinkSync(`/proc/${as.process.pid}/fd/${fd}`)}`;
            } catch {
              return fd;
            }
          });
          maps = readFileSync(`/proc/${as.process.pid}/maps`, "utf8");
          threads = readdirSync(`/proc/${as.process.pid}/task`).length;
        }
        if (last.kind !== "syscall") break;
        const nr = context.regs.syscallNumber;
        if (nr === SYS_exit_group) break;
        if (nr === SYS_kick) {
          futexWake(as.process.control.address + Layout.HDR_REQ_SEQ, 1);
        } else {
          syscalls.push(nr);
        }
        context.regs.setReturn(-ENOSYS);
      }
    } finally {
      clearTimeout(watchdog);
      clearTimeout(killer);
    }
    const out = new Uint8Array(PAGE);
    sandbox.memoryFile.read(reportOffset, out);
    context.release();
    as.release();
    return { syscalls, last, report: new BigInt64Array(out.buffer), fds, maps, threads };
  }

  it("gets the Sentry's answers for plain system calls", async () => {
    const outcome = await run(MODE_PLAIN);
    expect(outcome.syscalls).toEqual(HOST_CALLS);
    expect([...outcome.report.subarray(8, 8 + HOST_CALLS.length)]).toEqual(HOST_CALLS.map(() => BigInt(-ENOSYS)));
    expect(outcome.last.kind).toBe("syscall");
    expectHostUntouched(outcome);
  });

  it("gets the Sentry's answers or dies when it jumps to each syscall instruction of the stub", async () => {
    const gadgets = syscallGadgets();
    expect(gadgets.length).toBeGreaterThan(10);
    const endings = new Map<string, number>();
    for (const gadget of gadgets) {
      for (const nr of GADGET_CALLS) {
        const outcome = await run(MODE_GADGET, (report) => {
          report.setBigInt64(8, BigInt(gadget), true);
          report.setBigInt64(16, BigInt(nr), true);
        });
        expectHostUntouched(outcome);
        // Whatever the route, a host call the program asked for either
        // reached the Sentry as a trap or ended the stub.
        let ending: string = outcome.last.kind;
        if (outcome.syscalls.includes(nr)) ending = "answered";
        else if (outcome.last.kind === "signal" || outcome.last.kind === "fault") ending = "died";
        endings.set(ending, (endings.get(ending) ?? 0) + 1);
        expect(["answered", "died"], `gadget 0x${gadget.toString(16)} nr ${nr}`).toContain(ending);
      }
    }
    expect(endings.get("answered")).toBeGreaterThan(0);
  });

  it("hurts nothing outside its sandbox when it scribbles on its shared context", async () => {
    const outcome = await run(MODE_SCRIBBLE);
    expectHostUntouched(outcome);
    for (const nr of outcome.syscalls) expect(HOST_CALLS).toContain(nr);
  });

  it("cannot make the executor touch the stub's pages or start threads without end", async () => {
    const outcome = await run(MODE_FORGE);
    const EINVAL = -22n;
    expect([...outcome.report.subarray(8, 14)]).toEqual([EINVAL, EINVAL, EINVAL, EINVAL, EINVAL, EINVAL]);
    expect(outcome.report[14]).toBe(BigInt(Layout.MAX_THREADS - 1));
    expect(outcome.threads).toBe(Layout.MAX_THREADS + 1);
    expect(outcome.last.kind).toBe("fault");
    if (outcome.last.kind === "fault") {
      expect(outcome.last.addr).toBe(Layout.STUB_BASE);
      expect(outcome.last.access).toBe(Prot.Write);
    }
    expect(outcome.report[15]).toBe(0n);
    const textEnd = StubSymbol.stubTextEnd.toString(16);
    expect(outcome.maps).toMatch(new RegExp(`^7fc000000000-${textEnd} r-xp `, "m"));
    expect(outcome.maps).toMatch(/^7fc000100000-7fc002110000 rw-s /m);
    expectHostUntouched(outcome);
  });
});
