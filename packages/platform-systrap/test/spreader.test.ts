import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { Prot } from "@sandbox/platform";
import { describe, expect, it } from "vitest";
import { assemble } from "./assemble";
import { type CpuSpreader, moveOffCpu } from "../src/CpuSpreader";
import { CPU_MASK_BYTES, setThreadAffinity, threadAffinity } from "../src/host.native";
import { Sandbox } from "./Sandbox";

const CODE = 0x40_0000;
const PAGE = 4096;

/** Returns the CPU host thread `tid` of process `pid` last ran on (field 39 of its stat file). */
function processorOf(pid: number, tid = pid): number {
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[36]);
}

function onlyCpu(cpu: number): Uint8Array {
  const mask = new Uint8Array(CPU_MASK_BYTES);
  mask[cpu >> 3] = 1 << (cpu & 7);
  return mask;
}

/** Puts host thread `tid` on `cpu` and gives it back the affinity `allowed`. */
function placeOn(tid: number, cpu: number, allowed: Uint8Array): void {
  expect(setThreadAffinity(tid, onlyCpu(cpu))).toBe(true);
  expect(setThreadAffinity(tid, allowed)).toBe(true);
}

describe.skipIf(availableParallelism() < 2)("moving stub threads off the Sentry's CPU", () => {
  it("moves a busy thread off a CPU and gives it back its affinity", () => {
    const child = spawn("/bin/sh", ["-c", "while :; do :; done"], { stdio: "ignore" });
    try {
      const pid = child.pid as number;
      const allowed = threadAffinity(pid) as Uint8Array;
      placeOn(pid, 0, allowed);
      expect(moveOffCpu(pid, 0)).toBe(true);
      expect(processorOf(pid)).not.toBe(0);
      expect(threadAffinity(pid)).toEqual(allowed);
      // A thread that may run on one CPU only stays there.
      setThreadAffinity(pid, onlyCpu(1));
      expect(moveOffCpu(pid, 1)).toBe(false);
      expect(threadAffinity(pid)).toEqual(onlyCpu(1));
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("moves a stub thread that traps on the Sentry's CPU", async () => {
    const sentryAffinity = threadAffinity(process.pid) as Uint8Array;
    const sandbox = new Sandbox();
    try {
      const as = sandbox.newAddressSpace();
      sandbox.map(as, CODE, PAGE, Prot.Read | Prot.Exec, assemble("loop: mov eax, 39\nsyscall\njmp loop", CODE));
      const context = sandbox.newContext();
      context.regs.rip = CODE;
      expect((await context.switchTo(as)).kind).toBe("syscall");
      const tid = as.process.tids[0];
      const stubAffinity = threadAffinity(tid) as Uint8Array;

      // The Sentry's thread on CPU 0 only, the stub thread put there too.
      // The host may move the stub thread away by itself before it traps;
      // then try again.
      expect(setThreadAffinity(process.pid, onlyCpu(0))).toBe(true);
      const spreader = (sandbox.platform as unknown as { spreader: CpuSpreader }).spreader;
      for (let attempt = 0; attempt < 10 && spreader.moves === 0; attempt++) {
        placeOn(tid, 0, stubAffinity);
        // The spreader looks at the Sentry's CPU again every 64 traps.
        for (let i = 0; i < 100; i++) expect((await context.switchTo(as)).kind).toBe("syscall");
      }
      expect(spreader.moves).toBeGreaterThan(0);
      expect(threadAffinity(tid)).toEqual(stubAffinity);
    } finally {
      setThreadAffinity(process.pid, sentryAffinity);
      sandbox.dispose();
    }
  });
});
