// Benchmark of the systrap platform against ptrace, runsc and native calls.
//
//   npx vite-node tools/bench/systrap/bench.ts [--quick]
//
// In one run it measures nanoseconds per trapped getppid under systrap (with
// the default waiting, futex only, and event loop only), under platform-ptrace, under Debian's
// runsc with --platform=ptrace (if installed) and natively, then the CPU
// used by a sandbox whose program sleeps for 10 seconds, and the time a stub
// thread spins before it sleeps. It prints a Markdown table. Needs gcc and root
// (runsc). Each platform here is driven by the same minimal loop, which
// returns 1 for every getppid. The numbers thus compare platform costs, not
// Sentry costs.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UserRegsOffset } from "../../../packages/abi/src/index";
import { type Platform, Prot } from "../../../packages/platform/src/index";
import { MemoryFile } from "../../../packages/mm/src/memory-file";
import { PtracePlatform } from "../../../packages/platform-ptrace/src/index";
import { DEFAULT_SLEEP_MS, DEFAULT_SPIN_MS, DEFAULT_STUB_SPIN, SystrapPlatform } from "../../../packages/platform-systrap/src/index";

const quick = process.argv.includes("--quick");
const ITERATIONS = quick ? 20_000 : 200_000;
const IDLE_SECONDS = quick ? 2 : 10;
const CODE = 0x40_0000;
const PAGE = 4096;
const SYS_getppid = 110;
const SYS_nanosleep = 35;
const SYS_exit_group = 231;

/** loop: mov eax, 110; syscall; dec rbx; jnz loop; mov eax, 231; syscall */
const GETPPID_LOOP = [0xb8, 0x6e, 0, 0, 0, 0x0f, 0x05, 0x48, 0xff, 0xcb, 0x75, 0xf4, 0xb8, 0xe7, 0, 0, 0, 0x0f, 0x05];
/** mov eax, 35; syscall; mov eax, 231; syscall */
const SLEEP_ONCE = [0xb8, 0x23, 0, 0, 0, 0x0f, 0x05, 0xb8, 0xe7, 0, 0, 0, 0x0f, 0x05];

const work = mkdtempSync(join(tmpdir(), "systrap-bench-"));

function setUp(make: (memoryFile: MemoryFile) => Platform, code: number[]) {
  const memoryFile = MemoryFile.create("systrap-bench");
  const platform = make(memoryFile);
  const page = new Uint8Array(PAGE);
  page.set(code);
  memoryFile.grow(PAGE);
  memoryFile.write(0, page);
  const as = platform.newAddressSpace();
  as.mapFile(CODE, PAGE, 0, Prot.Read | Prot.Exec);
  const context = platform.newContext();
  context.regs.rip = CODE;
  return {
    platform,
    as,
    context,
    dispose() {
      platform.close();
      memoryFile.close();
    },
  };
}

/** Nanoseconds per getppid round trip through `make`'s platform, best of three. */
async function platformGetppid(make: (memoryFile: MemoryFile) => Platform, iterations: number): Promise<number> {
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const { context, as, dispose } = setUp(make, GETPPID_LOOP);
    try {
      context.regs.set(UserRegsOffset.rbx, BigInt(iterations));
      const start = process.hrtime.bigint();
      for (;;) {
        const trap = await context.switchTo(as);
        if (trap.kind !== "syscall") throw new Error(`unexpected trap ${JSON.stringify(trap)}`);
        const nr = context.regs.syscallNumber;
        if (nr === SYS_exit_group) break;
        if (nr !== SYS_getppid) throw new Error(`unexpected syscall ${nr}`);
        context.regs.setReturn(1);
      }
      best = Math.min(best, Number(process.hrtime.bigint() - start) / iterations);
    } finally {
      dispose();
    }
  }
  return best;
}

/** Reads utime + stime of a process (all its threads) in clock ticks. */
function processTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

/** CPU used by a systrap sandbox whose program sleeps IDLE_SECONDS, in percent of one CPU. */
async function idleCpu(): Promise<{ stub: number; sentry: number }> {
  const { context, as, dispose } = setUp((memoryFile) => new SystrapPlatform({ memoryFile }), SLEEP_ONCE);
  try {
    const pid = (as as unknown as { process: { pid: number } }).process.pid;
    const trap = await context.switchTo(as);
    if (trap.kind !== "syscall" || context.regs.syscallNumber !== SYS_nanosleep) throw new Error("expected nanosleep");
    const ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }));
    const stubBefore = processTicks(pid);
    const sentryBefore = process.cpuUsage();
    const start = performance.now();
    await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
    const seconds = (performance.now() - start) / 1000;
    const stubSeconds = (processTicks(pid) - stubBefore) / ticksPerSecond;
    const sentry = process.cpuUsage(sentryBefore);
    context.regs.setReturn(0);
    await context.switchTo(as);
    return { stub: (100 * stubSeconds) / seconds, sentry: (100 * (sentry.user + sentry.system)) / 1e6 / seconds };
  } finally {
    dispose();
  }
}

function compile(source: string, name: string, flags: string[] = []): string {
  const out = join(work, name);
  execFileSync("gcc", ["-O2", ...flags, "-o", out, source]);
  return out;
}

function nativeGetppid(binary: string): number {
  return Number(execFileSync(binary, [String(ITERATIONS * 10)], { encoding: "utf8" }));
}

function runscGetppid(binary: string): number | string {
  try {
    // The full path: under npx, PATH finds this project's runsc first.
    const out = execFileSync("/usr/bin/runsc", ["--platform=ptrace", "--network=none", "do", binary, String(ITERATIONS / 10)], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 120_000,
    });
    return Number(out.trim().split("\n").pop());
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? "").trim().split("\n").pop();
    return `failed: ${stderr || (err as Error).message.split("\n")[0]}`;
  }
}

/** Nanoseconds DEFAULT_STUB_SPIN rounds of sched_yield take here (a stub thread's spin before its futex sleep, on an idle core). */
function stubSpinNs(): number {
  const source = join(work, "yield.c");
  writeFileSync(
    source,
    `#include <sched.h>\n#include <stdio.h>\n#include <time.h>\nint main(void){struct timespec a,b;clock_gettime(CLOCK_MONOTONIC,&a);` +
      `for(int r=0;r<100;r++)for(int i=0;i<${DEFAULT_STUB_SPIN};i++)sched_yield();` +
      `clock_gettime(CLOCK_MONOTONIC,&b);printf("%f\\n",((b.tv_sec-a.tv_sec)*1e9+(b.tv_nsec-a.tv_nsec))/100);}`,
  );
  return Number(execFileSync(compile(source, "yield"), { encoding: "utf8" }));
}

async function main(): Promise<void> {
  const fmt = (v: number | string) => (typeof v === "number" ? v.toFixed(0) : v);
  try {
    const binary = compile(join(__dirname, "getppid.c"), "getppid", ["-static"]);
    const systrap = await platformGetppid((memoryFile) => new SystrapPlatform({ memoryFile }), ITERATIONS);
    const systrapNoSpin = await platformGetppid((memoryFile) => new SystrapPlatform({ memoryFile, spinMs: 0 }), ITERATIONS / 10);
    const systrapLoop = await platformGetppid(
      (memoryFile) => new SystrapPlatform({ memoryFile, spinMs: 0, sleepMs: 0 }),
      ITERATIONS / 10,
    );
    const ptrace = await platformGetppid((memoryFile) => new PtracePlatform({ memoryFile }), ITERATIONS / 10);
    const runsc = runscGetppid(binary);
    const native = nativeGetppid(binary);
    const spin = stubSpinNs();
    const idle = await idleCpu();

    console.log(`| measurement | ns per getppid |`);
    console.log(`| --- | ---: |`);
    console.log(
      `| systrap (Sentry spins ${(1000 * DEFAULT_SPIN_MS).toFixed(0)} us, then blocks on the futex up to ${(1000 * DEFAULT_SLEEP_MS).toFixed(0)} us) | ${fmt(systrap)} |`,
    );
    console.log(`| systrap, spinMs 0 (futex only) | ${fmt(systrapNoSpin)} |`);
    console.log(`| systrap, spinMs 0 and sleepMs 0 (wake socket and event loop only) | ${fmt(systrapLoop)} |`);
    console.log(`| platform-ptrace | ${fmt(ptrace)} |`);
    console.log(`| Debian runsc 20221219, --platform=ptrace | ${fmt(runsc)} |`);
    console.log(`| native | ${fmt(native)} |`);
    console.log("");
    console.log(`Stub spin (${DEFAULT_STUB_SPIN} rounds of sched_yield) before its futex sleep, on an idle core: ${spin.toFixed(0)} ns.`);
    console.log(
      `Idle sandbox (program in a ${IDLE_SECONDS} s sleep): stub ${idle.stub.toFixed(2)} % of a CPU, ` +
        `Sentry process ${idle.sentry.toFixed(2)} % of a CPU.`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

void main();
