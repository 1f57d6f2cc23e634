// The runsc command line: strace output, exit statuses of bad input, flags.
import { chmodSync, closeSync, copyFileSync, mkdirSync, openSync, readdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUSYBOX, DIFFERENTIAL_PLATFORMS, isAlive, makeTempDir, runNative, runSandboxed, RUNSC_BIN, RUNSC_LAUNCHER } from "./harness";

let work: ReturnType<typeof makeTempDir>;

beforeAll(() => {
  work = makeTempDir("runsc-cli");
  mkdirSync(join(work.path, "a-directory"));
  writeFileSync(join(work.path, "not-executable"), "#!/bin/sh\necho hi\n");
  chmodSync(join(work.path, "not-executable"), 0o644);
  writeFileSync(join(work.path, "plain-text"), "this is not a program\n");
  chmodSync(join(work.path, "plain-text"), 0o755);

  const foreign = Buffer.from(readFileSync(BUSYBOX));
  foreign.writeUInt16LE(183, 18); // e_machine = EM_AARCH64
  writeFileSync(join(work.path, "foreign-elf"), foreign);
  chmodSync(join(work.path, "foreign-elf"), 0o755);

  copyFileSync(BUSYBOX, join(work.path, "truncated-elf"));
  truncateSync(join(work.path, "truncated-elf"), 100);
  chmodSync(join(work.path, "truncated-elf"), 0o755);

  writeFileSync(join(work.path, "segv.c"), "int main(void) { return *(volatile int *)0; }\n");
  spawnSync("gcc", ["-static", "-O0", "-o", join(work.path, "segv"), join(work.path, "segv.c")]);
  spawnSync("gcc", ["-O1", "-o", join(work.path, "execve_only"), join(__dirname, "fixtures/execve_only.c")]);
});

afterAll(() => work?.dispose());

describe("--strace", () => {
  it("prints each system call in strace's format", () => {
    const result = runSandboxed([BUSYBOX, "cat", "/etc/hostname", "/nonexistent"], { runscArgs: ["--strace"] });
    const lines = result.stderr.split("\n");
    expect(lines).toContainEqual(expect.stringMatching(/^\[pid 1\] openat\(AT_FDCWD, "\/etc\/hostname", O_RDONLY\) = 3$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\[pid 1\] read\(3, ".*"\.*, \d+\) = \d+$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\[pid 1\] openat\(AT_FDCWD, "\/nonexistent", O_RDONLY\) = -1 ENOENT \(No such file or directory\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\[pid 1\] mmap\(NULL, \d+, PROT_READ\|PROT_WRITE, MAP_PRIVATE\|MAP_ANONYMOUS, -1, 0\) = 0x[0-9a-f]+$/));
    expect(lines).toContainEqual("[pid 1] exit_group(1) = ?");
    expect(result.status).toBe(1);
  });

  it("is accepted after do", () => {
    const result = runSandboxed([BUSYBOX, "true"], { doArgs: ["--strace"] });
    expect(result.stderr).toContain("exit_group(0) = ?");
  });
});

describe("bad input", () => {
  // The native reference is a plain execve(2): env(1) goes through execvp(3),
  // which runs a file that fails with ENOEXEC through /bin/sh instead.
  it("missing program exits 127 as env does", () => {
    const native = runNative(["no-such-program-anywhere"]);
    const sandboxed = runSandboxed(["no-such-program-anywhere"]);
    expect(native.status).toBe(127);
    expect(sandboxed.status).toBe(127);
    expect(sandboxed.stderr).toBe("runsc: cannot execute no-such-program-anywhere: No such file or directory\n");
  });

  const cases: Array<[string, string]> = [
    ["missing path", "./does-not-exist"],
    ["directory", "./a-directory"],
    ["file without execute permission", "./not-executable"],
    ["executable non-ELF file", "./plain-text"],
    ["ELF for another architecture", "./foreign-elf"],
    ["truncated ELF", "./truncated-elf"],
  ];
  it.each(DIFFERENTIAL_PLATFORMS.flatMap((platform) => cases.map(([name, command]) => [name, platform, command])))("%s fails as execve does on %s", (_name, platform, command) => {
    const native = runNative([join(work.path, "execve_only"), command], { cwd: work.path });
    const sandboxed = runSandboxed([command], { cwd: work.path, runscArgs: [`--platform=${platform}`] });
    expect([126, 127]).toContain(native.status);
    expect(sandboxed.status).toBe(native.status);
    const errorLines = sandboxed.stderr.trim().split("\n");
    expect(errorLines).toHaveLength(1);
    const nativeReason = native.stderr.trim().split(": ").pop();
    expect(errorLines[0]).toBe(`runsc: cannot execute ${command}: ${nativeReason}`);
  });

  it.each(DIFFERENTIAL_PLATFORMS)("segfault exits 139 on %s", (platform) => {
    const native = runNative([join(work.path, "segv")]);
    const sandboxed = runSandboxed([join(work.path, "segv")], { runscArgs: [`--platform=${platform}`] });
    expect(native.status).toBe(139);
    expect(sandboxed.status).toBe(139);
    expect(sandboxed.stderr).toContain("SIGSEGV");
  });

  it("unknown flag prints usage and exits 2", () => {
    for (const args of [["--no-such-flag", "do", "true"], ["do", "--no-such-flag", "true"]]) {
      const result = spawnSync(process.execPath, [RUNSC_BIN, ...args]);
      expect(result.status).toBe(2);
      expect(result.stderr.toString()).toContain("unknown flag: --no-such-flag");
      expect(result.stderr.toString()).toContain("Usage: runsc");
    }
  });

  it("invalid platform name exits 125", () => {
    const result = runSandboxed([BUSYBOX, "true"], { runscArgs: ["--platform=nonsense"] });
    expect(result.status).toBe(125);
    expect(result.stderr).toContain('invalid value "nonsense" for --platform');
  });

  it("platform that cannot start exits 125 with the reason", () => {
    // Under strace -f the stub is already traced, so PTRACE_TRACEME fails: ptrace is unusable.
    const result = spawnSync("strace", ["-f", "-qq", "-o", "/dev/null", process.execPath, RUNSC_BIN, "--platform=ptrace", "do", BUSYBOX, "true"], { timeout: 60_000 });
    expect(result.status).toBe(125);
    expect(result.stderr.toString()).toMatch(/^runsc: platform ptrace is not available: .*PTRACE_TRACEME failed/m);
  });

  it("unusable /dev/kvm exits 125 with the reason", () => {
    // A mount namespace of this test puts /dev/null over /dev/kvm; it ends with the command.
    const script = `mount --bind /dev/null /dev/kvm && exec ${process.execPath} ${RUNSC_BIN} --platform=kvm do /bin/true`;
    const result = spawnSync("unshare", ["--mount", "--propagation", "private", "sh", "-c", script], { encoding: "utf8", timeout: 60_000 });
    expect(result.status).toBe(125);
    expect(result.stderr).toMatch(/^runsc: platform kvm is not available: .+/m);
  });

  it("do without a command exits 2", () => {
    const result = spawnSync(process.execPath, [RUNSC_BIN, "do"]);
    expect(result.status).toBe(2);
  });
});

describe("help", () => {
  it("describes every flag", () => {
    const top = spawnSync(process.execPath, [RUNSC_BIN, "--help"]);
    const sub = spawnSync(process.execPath, [RUNSC_BIN, "do", "--help"]);
    expect(top.status).toBe(0);
    expect(sub.status).toBe(0);
    for (const flag of ["--platform", "--network", "--root", "--debug", "--debug-log", "--strace"]) {
      expect(top.stdout.toString()).toContain(flag);
      expect(sub.stdout.toString()).toContain(flag);
    }
    expect(sub.stdout.toString()).toContain("--volume");
  });

  it("stops flag parsing at the command", () => {
    const result = runSandboxed([BUSYBOX, "ls", "-la", "/etc/hostname"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("/etc/hostname");
  });

  it("--debug says which platform was chosen and why", () => {
    const result = runSandboxed([BUSYBOX, "true"], { runscArgs: ["--debug"] });
    expect(result.stderr).toMatch(/platform (systrap|ptrace): --platform=auto chose \1, the first whose probe passed/);
  });
});

/** The two ways to start runsc: Node on runsc.js, and the sh launcher, which also starts the gofer. */
const STARTS: Array<[string, string[]]> = [
  ["node runsc.js", [process.execPath, RUNSC_BIN]],
  ["the launcher", [RUNSC_LAUNCHER]],
];

describe.each(STARTS)("cleanup, started by %s", (_name, [command, ...prefix]) => {
  it("SIGKILL of runsc leaves no stub or gofer", async () => {
    const child = spawn(command, [...prefix, "do", BUSYBOX, "sleep", "30"], { stdio: "ignore" });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const stubs = sandboxChildren(child.pid ?? -1);
    expect(stubs.length).toBeGreaterThan(0);
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    // The gofer notices the closed socket and exits; give it a moment.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (const pid of stubs) expect(isAlive(pid), `process ${pid}`).toBe(false);
  });

  it("SIGTERM of runsc ends the sandboxed program", async () => {
    const child = spawn(command, [...prefix, "do", BUSYBOX, "sleep", "30"], { stdio: "ignore" });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const stubs = sandboxChildren(child.pid ?? -1);
    child.kill("SIGTERM");
    const code = await new Promise((resolve) => child.once("exit", (status) => resolve(status)));
    expect(code).toBe(143);
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const pid of stubs) expect(isAlive(pid), `process ${pid}`).toBe(false);
  });
});

describe("stdin from a file", () => {
  it("lseek on a stdin file", () => {
    const input = join(work.path, "stdin.txt");
    writeFileSync(input, "first line\nsecond line\nthird line\n");
    // The host shell reads one line first, so the sandbox starts at its offset.
    const script = "read -r line; exec \"$@\"";
    const argv = ["/bin/sh", "-c", "wc -c; head -c 6"];
    const run = (prefix: string[]) => {
      const fd = openSync(input, "r");
      try {
        return spawnSync("/bin/sh", ["-c", script, "sh", ...prefix, ...argv], { stdio: [fd, "pipe", "pipe"], encoding: "utf8" });
      } finally {
        closeSync(fd);
      }
    };
    const native = run([]);
    expect(native.stdout).toBe("23\nsecond");
    const sandboxed = run([process.execPath, RUNSC_BIN, "do"]);
    expect(sandboxed.stderr).toBe("");
    expect(sandboxed.stdout).toBe(native.stdout);
    expect(sandboxed.status).toBe(native.status);
  });
});

/** Linux's scheduling policies, as /proc shows them. */
const SCHED_OTHER = 0;
const SCHED_IDLE = 5;

describe("scheduling", () => {
  it("runs V8's helper threads under SCHED_IDLE", async () => {
    const child = spawn(process.execPath, [RUNSC_BIN, "do", BUSYBOX, "sleep", "30"], { stdio: "ignore" });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const pid = child.pid as number;
      // Field 41 of /proc/PID/task/TID/stat is the scheduling policy.
      const policyOf = (tid: string) => {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[38]);
      };
      const helpers = readdirSync(`/proc/${pid}/task`).filter((tid) => Number(tid) !== pid);
      expect(policyOf(String(pid))).toBe(SCHED_OTHER);
      // Node starts at least four V8 helper threads on every machine.
      expect(helpers.filter((tid) => policyOf(tid) === SCHED_IDLE).length).toBeGreaterThanOrEqual(4);
    } finally {
      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));
    }
  });
});

describe("stdio", () => {
  it("opens host pipes again through /dev/stdin and /dev/stdout", () => {
    const inner = "cat /dev/stdin > /dev/stdout";
    const script = `echo through-host-pipes | ${process.execPath} ${RUNSC_BIN} do /bin/sh -c '${inner}' | cat`;
    const result = runNative(["/bin/sh", "-c", script]);
    expect(result.stdout).toBe("through-host-pipes\n");
    expect(result.status).toBe(0);
  });
});

describe("stdio in a host file", () => {
  it("reopens with own offset and O_TRUNC", () => {
    const output = join(work.path, "stdout-file");
    const inner = "echo first; echo second > /dev/stdout; echo third >> /dev/stdout";
    const native = runNative(["/bin/sh", "-c", `/bin/sh -c '${inner}' > ${output}; cat ${output}`]);
    const sandboxed = runNative(["/bin/sh", "-c", `${process.execPath} ${RUNSC_BIN} do /bin/sh -c '${inner}' > ${output}; cat ${output}`]);
    expect(native.stdout).toBe("second\nthird\n");
    expect(sandboxed.stdout).toBe(native.stdout);
  });
});

describe("environment", () => {
  it("keeps the caller's UV_THREADPOOL_SIZE", () => {
    const script = "echo ${UV_THREADPOOL_SIZE-unset}";
    const { UV_THREADPOOL_SIZE: _ignored, ...withoutSize } = process.env;
    for (const platform of DIFFERENTIAL_PLATFORMS) {
      const unset = runSandboxed([BUSYBOX, "sh", "-c", script], { runscArgs: [`--platform=${platform}`], env: withoutSize });
      expect(unset.stdout).toBe("unset\n");
      const withCallerSize = runSandboxed([BUSYBOX, "sh", "-c", script], { runscArgs: [`--platform=${platform}`], env: { ...withoutSize, UV_THREADPOOL_SIZE: "7" } });
      expect(withCallerSize.stdout).toBe("7\n");
    }
  });
});

/** Pids of the stubs and gofers whose parent is `parentPid`. */
function sandboxChildren(parentPid: number): number[] {
  const result = spawnSync("/bin/ps", ["-e", "-o", "pid=,ppid=,comm=,args="]);
  return result.stdout
    .toString()
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([, ppid, comm, ...args]) => Number(ppid) === parentPid && (comm.endsWith("-stub") || args.some((arg) => arg.endsWith("/gofer.js"))))
    .map(([pid]) => Number(pid));
}
