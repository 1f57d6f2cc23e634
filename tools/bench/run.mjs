#!/usr/bin/env node
// Benchmarks this project's runsc against native execution and Debian's
// runsc package (gVisor) on the same machine, in one invocation:
//   - nanoseconds per trapped system call (a static C loop of getppid calls);
//   - start-up time of `do /bin/true` (hyperfine, median of repeated runs);
//   - workloads: 200 fork+exec of /bin/true from sh, 256 MiB through a pipe
//     (dd | cat), `python3 -c pass`, and writing then reading 256 MiB in /tmp.
// Usage: node tools/bench/run.mjs [--runs N] [--platform A,B] [--json FILE]
// Requires: gcc, hyperfine, and Debian's runsc package for the gVisor column.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "../..");
// The launcher that `npx runsc` runs: it starts the gofer beside runsc.
const runscBin = join(root, "packages/runsc/bin/runsc");
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : fallback;
};
const runs = Number(option("runs", "7"));
const platforms = option("platform", "ptrace,systrap,kvm").split(",");
const jsonPath = option("json", undefined);
const gvisor = "/usr/bin/runsc";

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The commands compared: native, this project per platform, and gVisor if installed. */
function subjects() {
  const list = [{ name: "native", prefix: [] }];
  for (const platform of platforms) {
    list.push({ name: `this project (${platform})`, prefix: [runscBin, `--platform=${platform}`, "--network=none", "do"] });
  }
  if (existsSync(gvisor)) list.push({ name: "gVisor runsc (ptrace)", prefix: [gvisor, "--platform=ptrace", "--network=none", "do"] });
  return list;
}

function syscallCost(work, subject) {
  const program = join(work, "getppid_loop");
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const [command, ...rest] = [...subject.prefix, program, "20000"];
    const result = spawnSync(command, rest, { encoding: "utf8", timeout: 120_000 });
    const value = Number(result.stdout.trim().split("\n").pop());
    if (result.status !== 0 || !Number.isFinite(value)) throw new Error(`${subject.name} failed: ${result.stderr}`);
    samples.push(value);
  }
  return median(samples);
}

/** Median wall time in milliseconds of `argv` run under `subject`, from hyperfine. */
function medianMillis(work, subject, argv, timedRuns) {
  const command = [...subject.prefix, ...argv].map((word) => `'${word}'`).join(" ");
  const exportPath = join(work, "hyperfine.json");
  execFileSync("hyperfine", ["--style", "none", "--warmup", "1", "--runs", String(timedRuns), "-N", "--export-json", exportPath, command], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  const result = JSON.parse(readFileSync(exportPath, "utf8")).results[0];
  return result.median * 1000;
}

/** The workloads timed as whole commands, each run through /bin/sh -c. */
const WORKLOADS = [
  { name: "200 fork+exec of /bin/true", script: "i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i+1)); done" },
  { name: "256 MiB through a pipe", script: "dd if=/dev/zero bs=1M count=256 status=none | cat > /dev/null" },
  { name: "python3 -c pass", script: "/usr/bin/python3 -c pass" },
  { name: "write and read 256 MiB in /tmp", script: "dd if=/dev/zero of=/tmp/bench.bin bs=1M count=256 status=none && cat /tmp/bench.bin > /dev/null && rm /tmp/bench.bin" },
];

// /var/tmp, because /tmp inside this project's sandbox is a tmpfs of its own.
const work = mkdtempSync(join("/var/tmp", "runsc-bench-"));
try {
  execFileSync("gcc", ["-static", "-O2", "-o", join(work, "getppid_loop"), join(import.meta.dirname, "fixtures/getppid_loop.c")]);
  const timedRuns = Math.max(runs * 3, 10);
  const rows = subjects().map((subject) => ({
    name: subject.name,
    nsPerSyscall: syscallCost(work, subject),
    startupMs: medianMillis(work, subject, ["/bin/true"], timedRuns),
    workloadsMs: WORKLOADS.map((workload) => medianMillis(work, subject, ["/bin/sh", "-c", workload.script], runs)),
  }));
  const reference = rows.find((row) => row.name.startsWith("gVisor"));
  console.log(`machine: ${readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1]}, ${process.arch}, node ${process.version}`);
  console.log("| subject | ns per getppid (median) | vs gVisor | `do /bin/true` start-up, ms (median) | vs gVisor |");
  console.log("|---|---:|---:|---:|---:|");
  for (const row of rows) {
    const syscallRatio = reference ? (row.nsPerSyscall / reference.nsPerSyscall).toFixed(2) : "-";
    const startupRatio = reference ? (row.startupMs / reference.startupMs).toFixed(2) : "-";
    console.log(`| ${row.name} | ${row.nsPerSyscall.toFixed(0)} | ${syscallRatio} | ${row.startupMs.toFixed(1)} | ${startupRatio} |`);
  }
  console.log("");
  console.log(`| subject | ${WORKLOADS.map((workload) => `${workload.name}, ms`).join(" | ")} |`);
  console.log(`|---|${WORKLOADS.map(() => "---:").join("|")}|`);
  for (const row of rows) {
    const cells = row.workloadsMs.map((value, index) => {
      const ratio = reference ? ` (${(value / reference.workloadsMs[index]).toFixed(2)})` : "";
      return `${value.toFixed(0)}${ratio}`;
    });
    console.log(`| ${row.name} | ${cells.join(" | ")} |`);
  }
  if (jsonPath !== undefined) writeFileSync(jsonPath, `${JSON.stringify(rows, null, 2)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
