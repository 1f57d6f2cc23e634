#!/usr/bin/env node
// Benchmarks the KVM platform in one invocation against the ptrace platform,
// Debian's runsc (gVisor, --platform=ptrace) and native execution:
//   - nanoseconds per trapped getppid(2) (tools/bench/fixtures/getppid_loop.c,
//     static, median of --runs runs of 20,000 calls);
//   - start-up of `do /bin/true` (hyperfine -N, median).
// The fixture is built under /var/tmp: the sandbox's /tmp is its own tmpfs.
// Usage: node tools/bench/kvm/bench.mjs [--runs N]
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "../../..");
// The launcher that `npx runsc` runs: it starts the gofer beside runsc.
const runscBin = join(root, "packages/runsc/bin/runsc");
const runsIndex = process.argv.indexOf("--runs");
const runs = runsIndex >= 0 ? Number(process.argv[runsIndex + 1]) : 5;
const gvisor = "/usr/bin/runsc";

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

const subjects = [
  { name: "native", prefix: [] },
  { name: "this project (kvm)", prefix: [runscBin, "--platform=kvm", "--network=none", "do"] },
  { name: "this project (ptrace)", prefix: [runscBin, "--platform=ptrace", "--network=none", "do"] },
];
if (existsSync(gvisor)) subjects.push({ name: "gVisor runsc (ptrace)", prefix: [gvisor, "--platform=ptrace", "--network=none", "do"] });

function nsPerSyscall(program, subject) {
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

function startupMs(work, subject) {
  const command = [...subject.prefix, "/bin/true"].map((word) => `'${word}'`).join(" ");
  const exportPath = join(work, "hyperfine.json");
  execFileSync("hyperfine", ["--style", "none", "--warmup", "2", "--runs", String(Math.max(runs * 3, 10)), "-N", "--export-json", exportPath, command], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  return JSON.parse(readFileSync(exportPath, "utf8")).results[0].median * 1000;
}

const work = mkdtempSync("/var/tmp/kvm-bench-");
try {
  const program = join(work, "getppid_loop");
  execFileSync("gcc", ["-static", "-O2", "-o", program, join(import.meta.dirname, "../fixtures/getppid_loop.c")]);
  const rows = subjects.map((subject) => ({ name: subject.name, ns: nsPerSyscall(program, subject), ms: startupMs(work, subject) }));
  const reference = rows.find((row) => row.name.startsWith("gVisor"));
  console.log(`machine: ${readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1]}, node ${process.version}, runs ${runs}`);
  console.log("| subject | ns per getppid (median) | vs gVisor | `do /bin/true` start-up, ms (median) | vs gVisor |");
  console.log("|---|---:|---:|---:|---:|");
  for (const row of rows) {
    const ratio = (value, base) => (reference ? (value / base).toFixed(2) : "-");
    console.log(`| ${row.name} | ${row.ns.toFixed(0)} | ${ratio(row.ns, reference?.ns)} | ${row.ms.toFixed(1)} | ${ratio(row.ms, reference?.ms)} |`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
