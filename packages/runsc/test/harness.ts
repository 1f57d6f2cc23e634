// Helpers for tests that run real programs natively and under `runsc do`.
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";

/** The runsc bin script of this checkout; `npm test` builds it before the tests run. */
export const RUNSC_BIN = resolve(__dirname, "../bin/runsc.js");
/** The sh launcher of runsc (the package's bin), which starts runsc's gofer beside it. */
export const RUNSC_LAUNCHER = resolve(__dirname, "../bin/runsc");
export const BUSYBOX = "/bin/busybox";

/** The platforms the process, thread and file system tests run on. */
export const PLATFORMS = ["ptrace", "systrap"] as const;

/** The platforms the single-process differential cases (busybox, the static C fixture, bad input) run on. */
export const DIFFERENTIAL_PLATFORMS = ["ptrace", "systrap", "kvm"] as const;

/** Output and status of one finished command. */
export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  /** Exit status, or 128+N if the command was killed by signal N, as a shell reports it. */
  readonly status: number;
}

export interface RunOptions {
  readonly cwd?: string;
  readonly input?: string | Buffer;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
}

function toResult(result: SpawnSyncReturns<Buffer>): RunResult {
  if (result.error) throw result.error;
  const signals: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };
  const status = result.status ?? 128 + (signals[result.signal ?? ""] ?? 0);
  return { stdout: result.stdout.toString("utf8"), stderr: result.stderr.toString("utf8"), status };
}

/** Runs `argv` natively, as `env CMD...` would. */
export function runNative(argv: readonly string[], options: RunOptions = {}): RunResult {
  return toResult(
    spawnSync("/usr/bin/env", ["--", ...argv], {
      cwd: options.cwd,
      input: options.input,
      env: options.env ?? process.env,
      timeout: options.timeoutMs ?? 60_000,
    }),
  );
}

/** Runs `runsc [runscArgs] do [doArgs] argv...` with the built bin. */
export function runSandboxed(argv: readonly string[], options: RunOptions & { runscArgs?: readonly string[]; doArgs?: readonly string[] } = {}): RunResult {
  if (!existsSync(resolve(__dirname, "../dist/cli.js"))) throw new Error("runsc is not built: run `npm run build` first");
  return toResult(
    spawnSync(process.execPath, [RUNSC_BIN, ...(options.runscArgs ?? []), "do", ...(options.doArgs ?? []), ...argv], {
      cwd: options.cwd,
      input: options.input,
      env: options.env ?? process.env,
      timeout: options.timeoutMs ?? 60_000,
    }),
  );
}

/** Runs a shell pipeline natively through /bin/sh -c. */
export function runShell(script: string, options: RunOptions = {}): RunResult {
  return toResult(spawnSync("/bin/sh", ["-c", script], { cwd: options.cwd, env: options.env ?? process.env, timeout: options.timeoutMs ?? 60_000 }));
}

/**
 * A temporary directory removed by `dispose`, also when the test failed. It
 * lives under /var/tmp, because /tmp inside a sandbox is a tmpfs of its own.
 */
export function makeTempDir(prefix: string): { path: string; dispose: () => void } {
  const path = mkdtempSync(join("/var/tmp", `${prefix}-`));
  return { path, dispose: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * Pids of stubs and gofers whose runsc is gone (their parent is now init)
 * and that are still there after `graceMs`. A stub or gofer of a sandbox
 * that is still running, for example in a test file that runs in parallel,
 * has a live parent and is not counted. One whose runsc a parallel test
 * just killed ends within milliseconds: a stub started just before that
 * finds its parent gone when it sets itself up, and exits.
 */
export function leftoverSandboxProcesses(graceMs = 2000): number[] {
  const deadline = Date.now() + graceMs;
  for (;;) {
    const found = orphanedSandboxProcesses();
    if (found.length === 0 || Date.now() >= deadline) return found;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
}

function orphanedSandboxProcesses(): number[] {
  const found: number[] = [];
  const result = spawnSync("/bin/ps", ["-e", "-o", "pid=,ppid=,comm=,args="]);
  for (const line of result.stdout.toString().split("\n")) {
    const [pid, ppid, comm, ...args] = line.trim().split(/\s+/);
    const isStub = comm === "sandbox-stub" || comm === "systrap-stub";
    const isGofer = args.some((arg) => arg.endsWith("/gofer.js")) && args.some((arg) => arg.startsWith("--socket-fd=") || arg.startsWith("--handoff="));
    if ((isStub || isGofer) && Number(ppid) === 1) found.push(Number(pid));
  }
  return found;
}

/** Reports whether `pid` is running; a zombie waiting for init to reap it counts as gone. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Returns the command line of `pid`, or [] when it is gone. */
export function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, -1);
  } catch {
    return [];
  }
}

/** Pids of the gofers that the launcher started for runsc `runscPid`. */
export function handedOffGofers(runscPid: number): number[] {
  const result = spawnSync("/bin/ps", ["-e", "-o", "pid=,ppid="], { encoding: "utf8" });
  return result.stdout
    .split("\n")
    .map((line) => line.trim().split(/\s+/).map(Number))
    .filter(([, ppid]) => ppid === runscPid)
    .map(([pid]) => pid)
    .filter((pid) => commandLine(pid).includes(`--handoff=${runscPid}`));
}
