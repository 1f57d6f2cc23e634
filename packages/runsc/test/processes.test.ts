// Processes, pipes and signals: shells, pipelines, scripts, Python's
// subprocess and C fixtures, each compared with the native run.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIFFERENTIAL_PLATFORMS, leftoverSandboxProcesses, makeTempDir, PLATFORMS, runNative, runSandboxed, RUNSC_BIN } from "./harness";

let work: ReturnType<typeof makeTempDir>;

beforeAll(() => {
  work = makeTempDir("runsc-processes");
  writeFileSync(join(work.path, "no-interpreter.sh"), "#!/no/such/interpreter\n", { mode: 0o755 });
  for (const name of ["signals", "child_signals", "job_control", "vector_signal"]) {
    execFileSync("gcc", ["-O1", "-o", join(work.path, name), join(__dirname, `fixtures/${name}.c`)]);
  }
});

afterAll(() => work?.dispose());

describe.each(DIFFERENTIAL_PLATFORMS)("signal frames on %s", (platform) => {
  it("carry the vector registers", () => {
    const native = runNative([join(work.path, "vector_signal")]);
    const sandboxed = runSandboxed([join(work.path, "vector_signal")], { runscArgs: [`--platform=${platform}`] });
    // kvm's guest runs without XSAVE enabled, so AVX is not usable there.
    const expected = platform === "kvm" ? `${native.stdout.split("\n")[0]}\nAVX: not usable\n` : native.stdout;
    expect(sandboxed.stdout).toBe(expected);
    expect(sandboxed.status).toBe(native.status);
  });
});

describe.each(PLATFORMS)("processes on %s", (platform) => {
  const runscArgs = [`--platform=${platform}`];

  function expectSameRun(argv: string[]): void {
    const native = runNative(argv, { cwd: work.path });
    const sandboxed = runSandboxed(argv, { cwd: work.path, runscArgs });
    expect(sandboxed.stdout).toBe(native.stdout);
    expect(sandboxed.stderr).toBe(native.stderr);
    expect(sandboxed.status).toBe(native.status);
  }

  it("sh pipeline of ls, sort and head", () => {
    expectSameRun(["/bin/sh", "-c", "ls /usr/bin | sort | head -5"]);
  });

  it("bash loop into wc", () => {
    expectSameRun(["/bin/bash", "-c", "for i in 1 2 3; do echo $i; done | wc -l"]);
  });

  it("bash script with traps, jobs and set -e", () => {
    expectSameRun(["/bin/bash", join(__dirname, "fixtures/shell_features.sh")]);
  });

  it("opens through /dev/fd and /proc/self/fd", () => {
    expectSameRun(["/bin/bash", join(__dirname, "fixtures/fd_links.sh")]);
  });

  it("memfd_create with a shared mapping and seals", () => {
    expectSameRun(["/usr/bin/python3", join(__dirname, "fixtures/memfd.py")]);
  });

  it("python3 multiprocessing in shared memory", () => {
    expectSameRun(["/usr/bin/python3", join(__dirname, "fixtures/multiprocessing_sync.py")]);
  });

  it("python3 subprocess", () => {
    expectSameRun(["/usr/bin/python3", "-c", 'import subprocess,os; print(subprocess.run(["echo","hi"],capture_output=True).stdout, os.getpid()>0)']);
  });

  it("signal handlers, masks and sigaltstack", () => {
    expectSameRun([join(work.path, "signals")]);
  });

  it("children killed by signals", () => {
    expectSameRun([join(work.path, "child_signals")]);
  });

  it("exit status of a shell", () => {
    expectSameRun(["/bin/busybox", "sh", "-c", "echo a | cat; sleep 0.2; exit 3"]);
  });

  it("exec of a directory fails with EACCES", () => {
    expectSameRun(["/bin/sh", "-c", "/etc; echo status $?"]);
  });

  it("script with a missing interpreter fails with ENOENT", () => {
    expectSameRun(["/usr/bin/python3", "-c", [
      "import os",
      "path = os.path.join(os.getcwd(), 'no-interpreter.sh')",
      "try:\n    os.execv(path, [path])\nexcept OSError as error:\n    print(error.errno, error.strerror)",
    ].join("\n")]);
  });

  it("job control without a terminal", () => {
    expectSameRun([join(work.path, "job_control")]);
  });

  it("job control on a controlling terminal", () => {
    const ptyRunner = ["/usr/bin/python3", join(__dirname, "fixtures/run_in_pty.py"), "x\n"];
    const native = runNative([...ptyRunner, join(work.path, "job_control")]);
    const sandboxed = runNative([...ptyRunner, process.execPath, RUNSC_BIN, ...runscArgs, "do", join(work.path, "job_control")]);
    expect(native.stdout).toContain("background read: stopped=1 stopsig=21");
    expect(sandboxed.stdout).toBe(native.stdout);
    expect(sandboxed.status).toBe(native.status);
  });

  it("leaves no stub or gofer behind", () => {
    expect(leftoverSandboxProcesses()).toEqual([]);
  });
});
