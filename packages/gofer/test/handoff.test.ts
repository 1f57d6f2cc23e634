// The gofer's handoff mode (--handoff=PARENT_PID): it serves the connection
// of its parent, turns away every other process, and exits when it cannot.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GoferConnection } from "../src/client/GoferConnection";
import { GoferFileSystem } from "../src/client/GoferFileSystem";
import { connectAbstract, listenAbstract, peerPid } from "../src/native/abstractSocket.native";
import { handoffAddress } from "../src/protocol/handoff";
import { bundleProgram, type GoferProgram, isRunning } from "./goferHarness";

const ECONNREFUSED = 111;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Connects to `address`, retrying while nothing listens there yet. */
async function connectWhenListening(address: string): Promise<number> {
  for (let i = 0; i < 500; i++) {
    const fd = connectAbstract(address);
    if (fd !== -ECONNREFUSED) return fd;
    await sleep(20);
  }
  throw new Error(`nothing listened on ${address}`);
}

/** Waits until `child` has exited and returns its exit status. */
function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

describe("gofer handoff", () => {
  let program: GoferProgram;
  let root: string;
  const children: ChildProcess[] = [];
  const fds: number[] = [];

  beforeAll(async () => {
    program = await bundleProgram();
  });

  afterAll(() => {
    program?.remove();
  });

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "gofer-handoff-"));
    writeFileSync(join(root, "file"), "contents");
  });

  afterEach(async () => {
    for (const fd of fds.splice(0)) closeSync(fd);
    for (const child of children.splice(0)) {
      if (child.pid !== undefined && isRunning(child.pid)) child.kill("SIGKILL");
      await exitOf(child);
    }
    rmSync(root, { recursive: true, force: true });
  });

  /** Starts the gofer in handoff mode for `parent`, as a child of this process. */
  function startGofer(parent: number): ChildProcess {
    const child = spawn(process.execPath, [program.path, `--root=${root}`, "--read-only", `--handoff=${parent}`], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    children.push(child);
    return child;
  }

  it("serves its parent after turning away another process", async () => {
    const gofer = startGofer(process.pid);

    // Another process connects first; the gofer must close that connection.
    const stranger = spawnSync(
      "/usr/bin/python3",
      [
        "-c",
        [
          "import socket, sys, time",
          "s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)",
          "for _ in range(500):",
          "    try:",
          "        s.connect('\\0' + sys.argv[1])",
          "        break",
          "    except ConnectionRefusedError:",
          "        time.sleep(0.02)",
          "s.settimeout(10)",
          "print(repr(s.recv(100)))",
        ].join("\n"),
        handoffAddress(process.pid),
      ],
      { encoding: "utf8", timeout: 30_000 },
    );
    expect(stranger.stderr).toBe("");
    expect(stranger.stdout).toBe("b''\n");
    expect(isRunning(gofer.pid as number)).toBe(true);

    const fd = await connectWhenListening(handoffAddress(process.pid));
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(peerPid(fd)).toBe(gofer.pid);
    const fs = new GoferFileSystem(new GoferConnection(fd), { dev: 99 });
    expect(fs.root().lookup("file")).toBeDefined();
    fs.close();
    expect(await exitOf(gofer)).toBe(0);
  });

  it("exits quietly when its parent is not the process named", async () => {
    const gofer = startGofer(1);
    let stderr = "";
    gofer.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await exitOf(gofer)).toBe(1);
    expect(stderr).toBe("");
  });

  it("exits with the reason when the handoff address is taken", async () => {
    const squatter = listenAbstract(handoffAddress(process.pid), 1);
    expect(squatter).toBeGreaterThanOrEqual(0);
    fds.push(squatter);
    const gofer = startGofer(process.pid);
    let stderr = "";
    gofer.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await exitOf(gofer)).toBe(1);
    expect(stderr).toMatch(/^gofer: cannot listen for process \d+: Address already in use\n$/);
  });

  it("rejects a bad command line", () => {
    const badPid = spawnSync(process.execPath, [program.path, `--root=${root}`, "--handoff=x"], { encoding: "utf8" });
    expect(badPid.status).toBe(2);
    expect(badPid.stderr).toContain("invalid --handoff");
    const both = spawnSync(process.execPath, [program.path, `--root=${root}`, "--handoff=1", "--socket-fd=3"], { encoding: "utf8" });
    expect(both.status).toBe(2);
    expect(both.stderr).toContain("--socket-fd and --handoff exclude each other");
  });
});
