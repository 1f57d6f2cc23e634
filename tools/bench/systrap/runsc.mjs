#!/usr/bin/env node
// Measures nanoseconds per trapped getppid through the whole runsc (Sentry
// and platform) for each platform named, with the fixture of tools/bench:
// the median of N runs of `runsc --platform=P do getppid_loop 20000`.
// The program is built under the home directory, not /tmp, because
// `runsc do` gives the sandbox a /tmp of its own.
// Usage: node tools/bench/systrap/runsc.mjs [--platform ptrace,systrap] [--runs N]
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "../../..");
// The launcher that `npx runsc` runs: it starts the gofer beside runsc.
const runsc = join(root, "packages/runsc/bin/runsc");
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : fallback;
};
const platforms = option("platform", "ptrace,systrap").split(",");
const runs = Number(option("runs", "7"));

/** Returns the median of `values`. */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const work = mkdtempSync(join(homedir(), "systrap-bench-"));
try {
  const program = join(work, "getppid_loop");
  execFileSync("gcc", ["-static", "-O2", "-o", program, join(root, "tools/bench/fixtures/getppid_loop.c")]);
  console.log(`machine: ${readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1]}, load ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`);
  console.log("| platform | ns per getppid (median) | all runs |");
  console.log("|---|---:|---|");
  for (const platform of ["native", ...platforms]) {
    const samples = [];
    for (let i = 0; i < runs; i++) {
      const command = platform === "native" ? [program, "20000"] : [runsc, `--platform=${platform}`, "--network=none", "do", program, "20000"];
      const result = spawnSync(command[0], command.slice(1), { encoding: "utf8", timeout: 120_000 });
      const value = Number(result.stdout.trim().split("\n").pop());
      if (result.status !== 0 || !Number.isFinite(value)) throw new Error(`${platform} failed with status ${result.status}: ${result.stderr}`);
      samples.push(value);
    }
    console.log(`| ${platform} | ${median(samples).toFixed(0)} | ${samples.join(" ")} |`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
