// The sandbox's file system: an overlay over the host root served by a
// gofer, /tmp of its own, volumes, and what happens when the gofer dies.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Sandbox } from "../src/sandbox";
import { handedOffGofers, isAlive, makeTempDir, PLATFORMS, runNative, runSandboxed, RUNSC_BIN, RUNSC_LAUNCHER } from "./harness";

let work: ReturnType<typeof makeTempDir>;

beforeAll(() => {
  work = makeTempDir("runsc-filesystem");
  for (const name of ["read_until_eio", "fork_bomb"]) {
    execFileSync("gcc", ["-O1", "-o", join(work.path, name), join(__dirname, `fixtures/${name}.c`)]);
  }
  chmodSync(work.path, 0o755);
  mkdirSync(join(work.path, "volume"));
  writeFileSync(join(work.path, "volume", "from-host.txt"), "host data\n");
  writeFileSync(join(work.path, "existing.txt"), "original\n");
});

afterAll(() => work?.dispose());

describe.each(PLATFORMS)("file system on %s", (platform) => {
  const runscArgs = [`--platform=${platform}`];

  it("gcc compiles and runs a program inside one sandbox", () => {
    const script = [
      "cd /tmp",
      "printf '#include <stdio.h>\\nint main(void) { puts(\"hello from gcc\"); return 0; }\\n' > hello.c",
      "gcc -o hello hello.c",
      "./hello",
      "ls -l hello | cut -c1-10",
    ].join(" && ");
    const result = runSandboxed(["/bin/sh", "-c", script], { runscArgs, cwd: work.path });
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("hello from gcc\n-rwxr-xr-x\n");
    expect(result.status).toBe(0);
    expect(existsSync("/tmp/hello")).toBe(false);
    expect(existsSync("/tmp/hello.c")).toBe(false);
  });

  it("writes, renames and deletes never reach the host", () => {
    const existing = join(work.path, "existing.txt");
    const created = join(work.path, "created.txt");
    const script = `echo changed > ${existing} && echo new > ${created} && mv ${created} ${created}.moved && rm ${existing} && ls ${work.path}`;
    const result = runSandboxed(["/bin/sh", "-c", script], { runscArgs, cwd: work.path });
    expect(result.status).toBe(0);
    expect(result.stdout.split("\n")).toContain("created.txt.moved");
    expect(result.stdout.split("\n")).not.toContain("existing.txt");
    expect(readFileSync(existing, "utf8")).toBe("original\n");
    expect(existsSync(created)).toBe(false);
    expect(existsSync(`${created}.moved`)).toBe(false);
  });

  it("read-write volume reaches the host", () => {
    const volume = join(work.path, "volume");
    const result = runSandboxed(["/bin/sh", "-c", "cat /data/from-host.txt && echo from-sandbox > /data/written.txt"], {
      runscArgs,
      doArgs: ["--volume", `${volume}:/data`],
      cwd: work.path,
    });
    expect(result.stdout).toBe("host data\n");
    expect(result.status).toBe(0);
    expect(readFileSync(join(volume, "written.txt"), "utf8")).toBe("from-sandbox\n");
  });

  it("read-only volume rejects writes", () => {
    const volume = join(work.path, "volume");
    const result = runSandboxed(["/bin/sh", "-c", "echo x > /data/denied.txt"], {
      runscArgs,
      doArgs: [`--volume=${volume}:/data:ro`],
      cwd: work.path,
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("Read-only file system");
    expect(existsSync(join(volume, "denied.txt"))).toBe(false);
  });

  it("/proc/mounts lists every mount", () => {
    const volume = join(work.path, "volume");
    const result = runSandboxed(["/bin/cat", "/proc/mounts"], { runscArgs, doArgs: [`--volume=${volume}:/data:ro`], cwd: work.path });
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe("overlay / overlay rw 0 0");
    for (const expected of ["proc /proc proc rw 0 0", "tmpfs /dev tmpfs rw 0 0", "tmpfs /dev/shm tmpfs rw 0 0", "tmpfs /tmp tmpfs rw 0 0", "9p /data 9p ro 0 0"]) {
      expect(lines).toContain(expected);
    }
  });

  it("killing the gofer gives EIO and a clean exit", async () => {
    const sandbox = new Sandbox({ platform });
    const goferPids = sandbox.fileSystem.goferPids;
    let status;
    try {
      const run = sandbox.run({ argv: [join(work.path, "read_until_eio")], cwd: work.path });
      await new Promise((resolve) => setTimeout(resolve, 500));
      process.kill(goferPids[0], "SIGKILL");
      status = await run;
    } finally {
      sandbox.close();
    }
    expect(status).toEqual({ kind: "exited", code: 3 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const pid of goferPids) expect(isAlive(pid)).toBe(false);
  });

  it("killing the gofer that the launcher started gives EIO and a clean exit", async () => {
    const runsc = spawn(RUNSC_LAUNCHER, [...runscArgs, "do", join(work.path, "read_until_eio")], { cwd: work.path, stdio: ["ignore", "pipe", "inherit"] });
    const exited = new Promise<number | null>((resolve) => runsc.once("exit", (code) => resolve(code)));
    let output = "";
    let gofers: number[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        runsc.stdout.on("data", (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes("reading\n")) resolve();
        });
        runsc.once("exit", () => reject(new Error(`runsc exited before the program read: ${JSON.stringify(output)}`)));
      });
      gofers = handedOffGofers(runsc.pid as number);
      expect(gofers).toHaveLength(1);
      process.kill(gofers[0], "SIGKILL");
      expect(await exited).toBe(3);
      expect(output).toBe("reading\nfailed with EIO\n");
    } finally {
      if (runsc.exitCode === null) runsc.kill("SIGKILL");
      for (const pid of gofers) if (isAlive(pid)) process.kill(pid, "SIGKILL");
    }
  });

  it("fork bomb under RLIMIT_NPROC gets EAGAIN", () => {
    const argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "prlimit", "--nproc=40"];
    const native = spawnSync(argv[0], [...argv.slice(1), join(work.path, "fork_bomb")], { encoding: "utf8", timeout: 60_000 });
    const sandboxed = spawnSync(argv[0], [...argv.slice(1), process.execPath, RUNSC_BIN, ...runscArgs, "do", join(work.path, "fork_bomb")], {
      encoding: "utf8",
      timeout: 60_000,
      cwd: work.path,
    });
    expect(native.stdout).toBe("fork failed with EAGAIN after some children: 1\nall children reaped\n");
    expect(sandboxed.stdout, `status ${sandboxed.status} signal ${sandboxed.signal} stderr ${sandboxed.stderr}`).toBe(native.stdout);
    expect(sandboxed.status).toBe(0);
  });
});

it("/dev/tty opens the terminal of stdin", () => {
  const ptyRunner = ["/usr/bin/python3", join(__dirname, "fixtures/run_in_pty.py"), ""];
  const withTerminal = runNative([...ptyRunner, process.execPath, RUNSC_BIN, "do", "/bin/sh", "-c", "echo via-tty > /dev/tty"]);
  expect(withTerminal.stdout).toBe("via-tty\n");
  expect(withTerminal.status).toBe(0);
  const withoutTerminal = runSandboxed(["/bin/sh", "-c", "echo x > /dev/tty"], { input: "" });
  expect(withoutTerminal.stderr).toContain("No such device or address");
  expect(withoutTerminal.status).toBe(2);
});

it("missing working directory exits 125 with the reason", () => {
  const result = runNative([process.execPath, RUNSC_BIN, "do", "--cwd=/no/such/dir", "/bin/true"]);
  expect(result.status).toBe(125);
  expect(result.stderr).toContain("working directory /no/such/dir is not usable in the sandbox");
});
