#!/usr/bin/env node
// Measures the CPU that an idle sandbox uses. It runs `runsc do /bin/busybox
// sleep 10`, then reads the CPU time of the runsc process (the Sentry) and of
// its child processes (stubs, gofer) from /proc. It reads between the 2nd
// and the 9th second, after start-up is over.
// Usage: node tools/bench/systrap/idle.mjs [--platform NAME] [--seconds N]
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const root = resolve(import.meta.dirname, "../../..");
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : fallback;
};
const platform = option("platform", "systrap");
const seconds = Number(option("seconds", "10"));
const ticksPerSecond = 100;

/** Returns user plus system clock ticks of process `pid`, or 0 if it is gone. */
function cpuTicks(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** Returns the ids of the child processes of `pid`. */
function childrenOf(pid) {
  const children = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1].split(" ");
      if (Number(stat[1]) === pid) children.push(Number(entry));
    } catch {
      // The process ended while the list was read.
    }
  }
  return children;
}

/** Returns the command name of process `pid` (/proc/PID/comm). */
function commandName(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "?";
  }
}

// The launcher that `npx runsc` runs; it execs into runsc, so runsc keeps its pid.
const runsc = resolve(root, "packages/runsc/bin/runsc");
const child = spawn(runsc, [`--platform=${platform}`, "--network=none", "do", "/bin/busybox", "sleep", String(seconds)], {
  stdio: ["ignore", "inherit", "inherit"],
});

const start = 2;
const end = seconds - 1;
await sleep(start * 1000);
const children = childrenOf(child.pid);
const names = children.map(commandName);
const sentryBefore = cpuTicks(child.pid);
const childrenBefore = children.map(cpuTicks);
await sleep((end - start) * 1000);
const sentryTicks = cpuTicks(child.pid) - sentryBefore;
const childTicks = children.map(cpuTicks).reduce((sum, ticks, i) => sum + ticks - childrenBefore[i], 0);
const code = await new Promise((done) => child.on("exit", done));

const percent = (ticks) => ((100 * ticks) / ticksPerSecond / (end - start)).toFixed(2);
console.log(`platform ${platform}, ${end - start} s of a ${seconds} s sleep, exit status ${code}`);
console.log(`Sentry process: ${percent(sentryTicks)} % of a CPU`);
console.log(`child processes (${names.join(", ")}): ${percent(childTicks)} % of a CPU`);
