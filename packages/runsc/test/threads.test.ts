// Threads: pthreads with mutexes, condition variables, barriers and TLS, a
// thread killed by a signal, and Python's ThreadPoolExecutor, each matching
// the native run 20 times in a row.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIFFERENTIAL_PLATFORMS, makeTempDir, runNative, runSandboxed } from "./harness";

const RUNS = 20;
const POOL_SCRIPT = [
  "from concurrent.futures import ThreadPoolExecutor",
  "def work(i):",
  "    return sum(range(i * 1000))",
  "with ThreadPoolExecutor(max_workers=16) as pool:",
  "    print(list(pool.map(work, range(16))))",
].join("\n");

let work: ReturnType<typeof makeTempDir>;

beforeAll(() => {
  work = makeTempDir("runsc-threads");
  for (const name of ["threads", "thread_kill", "futex_edges", "spin_threads"]) {
    execFileSync("gcc", ["-O1", "-pthread", "-o", join(work.path, name), join(__dirname, `fixtures/${name}.c`)]);
  }
});

afterAll(() => work?.dispose());

describe.each(DIFFERENTIAL_PLATFORMS)("threads on %s", (platform) => {
  function expectSameRuns(argv: string[], runs = RUNS): void {
    const native = runNative(argv);
    for (let run = 0; run < runs; run++) {
      const sandboxed = runSandboxed(argv, { runscArgs: [`--platform=${platform}`] });
      expect(sandboxed.stdout, `run ${run}`).toBe(native.stdout);
      expect(sandboxed.status, `run ${run}`).toBe(native.status);
    }
  }

  it("pthreads with mutex, condvar, barrier and TLS", () => {
    expectSameRuns([join(work.path, "threads")]);
  });

  it("thread killed by SIGTERM", () => {
    const native = runNative([join(work.path, "thread_kill")]);
    expect(native.status).toBe(143);
    expectSameRuns([join(work.path, "thread_kill")]);
  });

  it("threads that compute without system calls", () => {
    const argv = [join(work.path, "spin_threads")];
    const native = runNative(argv);
    expect(native.stdout).toBe("joined 8 threads\n");
    const sandboxed = runSandboxed(argv, { runscArgs: [`--platform=${platform}`], timeoutMs: 20_000 });
    expect(sandboxed.stdout).toBe(native.stdout);
    expect(sandboxed.status).toBe(0);
  });

  it("shared futex, robust mutex, exec from a thread", () => {
    expectSameRuns([join(work.path, "futex_edges")], 3);
  });

  it("python ThreadPoolExecutor of 16 tasks", () => {
    expectSameRuns(["/usr/bin/python3", "-c", POOL_SCRIPT]);
  });
});
