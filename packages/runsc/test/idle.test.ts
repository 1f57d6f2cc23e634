// An idle sandbox uses almost no CPU: while its program sleeps for 10
// seconds, runsc and its stubs together use less than 2% of one CPU.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { BUSYBOX, RUNSC_BIN } from "./harness";

const CLOCK_TICKS_PER_SECOND = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/** CPU seconds used so far by `pid` and its live children (utime + stime of each). */
function cpuSeconds(pid: number): number {
  let ticks = 0;
  const listing = spawnSync("/bin/ps", ["-e", "-o", "pid=,ppid="], { encoding: "utf8" }).stdout;
  const pids = [pid, ...listing.split("\n").map((line) => line.trim().split(/\s+/).map(Number)).filter(([, ppid]) => ppid === pid).map(([child]) => child)];
  for (const each of pids) {
    try {
      const fields = readFileSync(`/proc/${each}/stat`, "utf8").split(") ")[1].split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return ticks / CLOCK_TICKS_PER_SECOND;
}

it.each(["systrap", "ptrace"])("sleeping program on %s uses under 2%% CPU", async (platform) => {
  const child = spawn(process.execPath, [RUNSC_BIN, `--platform=${platform}`, "do", BUSYBOX, "sleep", "10"], { stdio: "ignore" });
  try {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const before = cpuSeconds(child.pid ?? -1);
    const started = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 7000));
    const used = cpuSeconds(child.pid ?? -1) - before;
    const elapsed = (Date.now() - started) / 1000;
    expect(used / elapsed).toBeLessThan(0.02);
  } finally {
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
  }
}, 30_000);
