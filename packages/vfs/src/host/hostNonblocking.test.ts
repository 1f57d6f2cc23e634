import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Errno, SyscallError } from "@sandbox/abi";
import { buildSync } from "esbuild";
import { afterEach, describe, expect, it } from "vitest";
import { O_NONBLOCK } from "../constants";
import { getStatusFlags, pipe2 } from "./hostFd.native";
import { acquireNonblocking, releaseNonblocking } from "./hostNonblocking";

describe("acquireNonblocking", () => {
  const fds: number[] = [];

  afterEach(() => {
    for (const fd of fds.splice(0)) {
      closeSync(fd);
    }
  });

  function hostPipe(flags: number): [number, number] {
    const ends = pipe2(flags);
    if (typeof ends === "number") {
      throw new Error(`pipe2 failed with errno ${-ends}`);
    }
    fds.push(...ends);
    return ends;
  }

  it("leaves a nonblocking descriptor nonblocking", () => {
    const [readFd] = hostPipe(O_NONBLOCK);
    acquireNonblocking(readFd);
    releaseNonblocking(readFd);
    expect(getStatusFlags(readFd) & O_NONBLOCK).toBe(O_NONBLOCK);
  });

  it("rejects bad descriptors", () => {
    expect(() => acquireNonblocking(1 << 20)).toThrow(SyscallError);
    expect(() => releaseNonblocking(1 << 20)).toThrow(SyscallError);
    expect(() => releaseNonblocking(1 << 20)).toThrow(expect.objectContaining({ errno: Errno.EBADF }));
  });

  it("restores blocking mode when the process exits", () => {
    // A child Node process puts its descriptor 3 (a pipe shared with this
    // process) in nonblocking mode and exits without releasing it. Node
    // itself restores descriptors 0 to 2 at exit, so the test uses 3.
    const [readFd] = hostPipe(0);
    const workDir = mkdtempSync(join(tmpdir(), "vfs-nonblocking-"));
    try {
      const bundle = join(workDir, "child.cjs");
      buildSync({
        stdin: { contents: 'require("./hostNonblocking").acquireNonblocking(3); process.exit(0);', resolveDir: __dirname },
        bundle: true,
        platform: "node",
        format: "cjs",
        external: ["koffi"],
        outfile: bundle,
        logLevel: "silent",
      });
      execFileSync(process.execPath, [bundle], { stdio: ["ignore", "ignore", "inherit", readFd], env: { ...process.env, NODE_PATH: join(process.cwd(), "node_modules") } });
      expect(getStatusFlags(readFd) & O_NONBLOCK).toBe(0);
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});
