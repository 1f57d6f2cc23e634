// The sh launcher bin/runsc: it starts the root gofer at the same time as
// runsc, and runsc adopts that gofer, or starts one of its own when the
// process it was handed is not that gofer.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readFileSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BUSYBOX, handedOffGofers, isAlive, leftoverSandboxProcesses, makeTempDir, runNative, RUNSC_BIN, RUNSC_LAUNCHER } from "./harness";

const HANDOFF_VARIABLE = "SANDBOX_GOFER_HANDOFF_PID";
const ADOPTED = /^D sandbox=\w+ adopted the gofer (\d+) that the launcher started$/m;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Processes a test started; each is killed after the test unless it is gone. */
const started: number[] = [];

afterEach(() => {
  for (const pid of started.splice(0)) {
    if (isAlive(pid)) process.kill(pid, "SIGKILL");
  }
});

/** Starts `command` and records its pid for the clean-up. */
function start(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env });
  if (child.pid !== undefined) started.push(child.pid);
  return child;
}

/** Waits until `child` has exited and returns its exit status, or 128+N after signal N. */
function exitOf(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve(code ?? 128 + (signal === "SIGKILL" ? 9 : 15))));
}

/** Fields of /proc/PID/stat after the command name: state is [0], ppid [1], session [3]. */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

describe("the launcher", () => {
  it("runs the program with the gofer it started", async () => {
    const native = runNative([BUSYBOX, "echo", "hello"]);
    const result = spawnSync(RUNSC_LAUNCHER, ["--debug", "do", BUSYBOX, "echo", "hello"], { encoding: "utf8", timeout: 60_000 });
    const gofer = Number(ADOPTED.exec(result.stderr)?.[1]);
    if (gofer > 0) started.push(gofer);
    expect(result.stderr).toMatch(ADOPTED);
    expect(result.stdout).toBe(native.stdout);
    expect(result.status).toBe(native.status);

    // runsc killed its gofer as it ended; init reaps it.
    for (let i = 0; i < 50 && isAlive(gofer); i++) await sleep(20);
    expect(isAlive(gofer)).toBe(false);
    expect(leftoverSandboxProcesses()).toEqual([]);
  });

  it("hides the handoff variable from the program", () => {
    const result = spawnSync(RUNSC_LAUNCHER, ["do", BUSYBOX, "env"], { encoding: "utf8", timeout: 60_000 });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("PATH=");
    expect(result.stdout).not.toContain(HANDOFF_VARIABLE);
  });

  it("finds the gofer through a symbolic link to its directory", () => {
    const work = makeTempDir("runsc-launcher-link");
    try {
      const linked = join(work.path, "bin");
      symlinkSync(dirname(RUNSC_LAUNCHER), linked);
      const result = spawnSync(join(linked, "runsc"), ["--debug", "do", BUSYBOX, "echo", "hello"], { encoding: "utf8", timeout: 60_000 });
      const gofer = Number(ADOPTED.exec(result.stderr)?.[1]);
      if (gofer > 0) started.push(gofer);
      expect(result.stdout).toBe("hello\n");
      expect(result.stderr).toMatch(ADOPTED);
      expect(result.stderr).not.toContain("Cannot find module");
    } finally {
      work.dispose();
    }
  });

  it("isolates the gofer, ends it with runsc", async () => {
    const runsc = start(RUNSC_LAUNCHER, ["do", BUSYBOX, "sleep", "30"]);
    const pid = runsc.pid as number;
    let gofers: number[] = [];
    for (let i = 0; i < 100 && gofers.length === 0; i++) {
      await sleep(20);
      gofers = handedOffGofers(pid);
    }
    started.push(...gofers);
    expect(gofers).toHaveLength(1);
    // The session id is the gofer's own pid once it called setsid.
    for (let i = 0; i < 100 && Number(statFields(gofers[0])[3]) !== gofers[0]; i++) await sleep(20);
    expect(Number(statFields(gofers[0])[3])).toBe(gofers[0]);

    runsc.kill("SIGKILL");
    await exitOf(runsc);
    // PR_SET_PDEATHSIG ends the gofer with runsc; the loop only bounds the wait.
    for (let i = 0; i < 100 && isAlive(gofers[0]); i++) await sleep(20);
    expect(isAlive(gofers[0])).toBe(false);
  });
});

describe("a handed-off pid that is no gofer", () => {
  // A process that listens on runsc's handoff address, as a gofer would, and
  // prints its pid. It runs for at most 30 seconds, without holding on to the
  // output pipes, whose end spawnSync waits for.
  const listener = [
    "import os, socket, sys, time",
    "s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)",
    "s.bind('\\0@sandbox/gofer/handoff/%d' % os.getppid())",
    "s.listen()",
    // One write, so that the line cannot interleave with runsc's log lines on the same pipe.
    "os.write(2, b'%d\\n' % os.getpid())",
    "null = os.open('/dev/null', os.O_WRONLY)",
    "os.dup2(null, 1)",
    "os.dup2(null, 2)",
    "time.sleep(30)",
  ].join("\n");

  /** Returns the pid that the listener printed, and records it for the clean-up. */
  function listenerPid(stderr: string): number {
    const pid = Number(/^(\d+)$/m.exec(stderr)?.[1]);
    if (pid > 0) started.push(pid);
    return pid;
  }

  /** Runs `script` with sh, which ends by running runsc on `busybox echo hello` with --debug. */
  function runScript(script: string) {
    const result = spawnSync("/bin/sh", ["-c", `${script} exec ${process.execPath} ${RUNSC_BIN} --debug do ${BUSYBOX} echo hello`], {
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, LISTENER: listener },
    });
    expect(result.stdout).toBe("hello\n");
    expect(result.status).toBe(0);
    expect(result.stderr).not.toMatch(ADOPTED);
    return result;
  }

  it("is left alone when it is no child of runsc", async () => {
    const other = start("sleep", ["30"]);
    const result = spawnSync(process.execPath, [RUNSC_BIN, "--debug", "do", BUSYBOX, "echo", "hello"], {
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, [HANDOFF_VARIABLE]: String(other.pid) },
    });
    expect(result.stdout).toBe("hello\n");
    expect(result.status).toBe(0);
    expect(result.stderr).toContain(`not adopting process ${other.pid} as a gofer: it is not a child of this process`);
    expect(isAlive(other.pid as number)).toBe(true);
  });

  it("is ignored when it exited", async () => {
    const exited = start("true", []);
    await exitOf(exited);
    const result = spawnSync(process.execPath, [RUNSC_BIN, "do", BUSYBOX, "echo", "hello"], {
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, [HANDOFF_VARIABLE]: String(exited.pid) },
    });
    expect(result.stdout).toBe("hello\n");
    expect(result.status).toBe(0);
  });

  it("is killed when it is a child of runsc that runs another program", () => {
    const result = runScript(`python3 -c "$LISTENER" & ${HANDOFF_VARIABLE}=$! && export ${HANDOFF_VARIABLE} &&`);
    const fake = listenerPid(result.stderr);
    expect(result.stderr).toMatch(new RegExp(`not adopting process ${fake} as a gofer: it runs ".*python3.*", not the gofer program`));
    expect(isAlive(fake)).toBe(false);
  });

  it("is killed when another process listens", () => {
    const result = runScript(`python3 -c "$LISTENER" & sleep 30 & ${HANDOFF_VARIABLE}=$! && export ${HANDOFF_VARIABLE} &&`);
    const squatter = listenerPid(result.stderr);
    const handed = Number(/not adopting process (\d+) as a gofer/.exec(result.stderr)?.[1]);
    if (handed > 0) started.push(handed);
    expect(result.stderr).toContain(`not adopting process ${handed} as a gofer: process ${squatter} listens on the handoff address`);
    expect(isAlive(handed)).toBe(false);
    expect(isAlive(squatter)).toBe(true);
  });
});
