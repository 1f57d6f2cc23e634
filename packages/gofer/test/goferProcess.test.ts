import { spawn, spawnSync } from "node:child_process";
import * as hostFs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Errno, SyscallError } from "@sandbox/abi";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { GoferInode } from "../src/client/GoferInode";
import { MessageType } from "../src/protocol/messages";
import { bundleProgram, type GoferProgram, isRunning, type RunningGofer, startGofer } from "./goferHarness";

function errnoOf(call: () => unknown): number | undefined {
  try {
    call();
    return undefined;
  } catch (error) {
    if (error instanceof SyscallError) {
      return error.errno;
    }
    throw error;
  }
}

function openDescriptors(pid: number): number {
  return hostFs.readdirSync(`/proc/${pid}/fd`).length;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("gofer process", () => {
  let program: GoferProgram;
  let root: string;
  const gofers: RunningGofer[] = [];
  const strayPids: number[] = [];

  beforeAll(async () => {
    program = await bundleProgram();
  });

  afterAll(() => {
    program?.remove();
  });

  beforeEach(() => {
    root = hostFs.mkdtempSync(join(tmpdir(), "gofer-process-"));
    hostFs.writeFileSync(join(root, "file"), "contents");
    hostFs.linkSync(join(root, "file"), join(root, "hard"));
  });

  afterEach(async () => {
    for (const gofer of gofers.splice(0)) {
      gofer.process.kill();
      await gofer.process.exited;
    }
    for (const pid of strayPids.splice(0)) {
      if (isRunning(pid)) {
        process.kill(pid, "SIGKILL");
      }
    }
    hostFs.rmSync(root, { recursive: true, force: true });
  });

  function start(readOnly: boolean): RunningGofer {
    const gofer = startGofer(program, root, readOnly);
    gofers.push(gofer);
    return gofer;
  }

  it("exits when its parent dies", async () => {
    const parentProgram = await bundleProgram("test/fixtures/goferParent.ts");
    try {
      const parent = spawn(process.execPath, [parentProgram.path, program.path, root], { stdio: ["ignore", "pipe", "inherit"] });
      strayPids.push(parent.pid!);
      const parentExited = new Promise((resolve) => parent.once("exit", resolve));
      const goferPid = await new Promise<number>((resolve, reject) => {
        let output = "";
        parent.stdout!.on("data", (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes("\n")) resolve(Number(output.trim()));
        });
        parent.once("exit", () => reject(new Error(`parent exited before it printed the gofer pid: ${JSON.stringify(output)}`)));
      });
      strayPids.push(goferPid);
      expect(isRunning(goferPid)).toBe(true);

      parent.kill("SIGKILL");
      await parentExited;
      // The gofer sees end-of-file at once. The loop only bounds the wait until the kernel has ended it.
      for (let i = 0; i < 200 && isRunning(goferPid); i++) {
        await sleep(50);
      }
      expect(isRunning(goferPid)).toBe(false);
    } finally {
      parentProgram.remove();
    }
  });

  it("shares one handle per host file", () => {
    const gofer = start(true);
    const rootInode = gofer.fs.root();
    const first = rootInode.lookup("file") as GoferInode;
    const again = rootInode.lookup("file") as GoferInode;
    const hard = rootInode.lookup("hard") as GoferInode;
    expect(again.handle).toBe(first.handle);
    expect(hard.handle).toBe(first.handle);
    expect(hard.ino).toBe(first.ino);
  });

  it("releases the handles of collected inodes", async () => {
    for (let i = 0; i < 200; i++) {
      hostFs.writeFileSync(join(root, `f${i}`), "");
    }
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const gofer = start(true);
    const rootInode = gofer.fs.root();
    const before = openDescriptors(gofer.process.pid);

    for (let i = 0; i < 200; i++) {
      rootInode.lookup(`f${i}`);
    }
    expect(openDescriptors(gofer.process.pid)).toBe(before + 200);

    // Finalizers run in a later task after a collection, and the next request sends the releases.
    for (let i = 0; i < 50 && openDescriptors(gofer.process.pid) > before; i++) {
      gc();
      await sleep(20);
      rootInode.stat();
    }
    expect(openDescriptors(gofer.process.pid)).toBe(before);
    expect(rootInode.lookup("f0")).toBeDefined();
  });

  it("replies to malformed requests with an errno", () => {
    const gofer = start(true);
    const connection = gofer.fs.connection;
    const noReply = () => undefined;
    expect(errnoOf(() => connection.request(99 as MessageType, () => undefined, noReply))).toBe(Errno.ENOSYS);
    expect(errnoOf(() => connection.request(MessageType.STAT, () => undefined, noReply))).toBe(Errno.EINVAL);
    expect(errnoOf(() => connection.request(MessageType.STAT, (w) => w.u32(12345), noReply))).toBe(Errno.EBADF);
    expect(errnoOf(() => connection.request(MessageType.WALK, (w) => w.u32(1).byteString("a\0b"), noReply))).toBe(Errno.EINVAL);
    expect(errnoOf(() => connection.request(MessageType.WALK, (w) => w.u32(1), noReply))).toBe(Errno.EINVAL);
    expect(errnoOf(() => connection.request(MessageType.OPEN, (w) => w.u32(1).u32(3), noReply))).toBe(Errno.EINVAL);
    expect(errnoOf(() => connection.request(MessageType.RELEASE, (w) => w.u32(1).u32(777), noReply))).toBe(Errno.EBADF);
    expect(errnoOf(() => connection.request(MessageType.RELEASE, (w) => w.u32(5), noReply))).toBe(Errno.EINVAL);
    expect(errnoOf(() => connection.request(MessageType.READLINK, (w) => w.u32(1), noReply))).toBe(Errno.EINVAL);
    expect(connection.connected).toBe(true);
    expect(gofer.fs.root().lookup("file")).toBeDefined();
  });

  it("rejects a bad command line", () => {
    const usage = spawnSync(process.execPath, [program.path], { encoding: "utf8" });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain("missing --root");
    const badFd = spawnSync(process.execPath, [program.path, `--root=${root}`, "--socket-fd=x"], { encoding: "utf8" });
    expect(badFd.status).toBe(2);
    expect(badFd.stderr).toContain("invalid --socket-fd");
    const missingRoot = spawnSync(process.execPath, [program.path, `--root=${join(root, "missing")}`, "--socket-fd=3"], {
      encoding: "utf8",
    });
    expect(missingRoot.status).toBe(1);
    expect(missingRoot.stderr).toContain("cannot open the mount root");
    const notSocket = spawnSync(process.execPath, [program.path, `--root=${root}`, "--socket-fd=0"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    expect(notSocket.status).toBe(1);
    expect(notSocket.stderr).toContain("descriptor 0 is not a SOCK_SEQPACKET socket");
  });
});
