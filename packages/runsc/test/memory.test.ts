// Application memory lives in the sandbox's memfd: its content is there,
// and munmap and MADV_DONTNEED give the blocks back to the host.
import { execFileSync } from "node:child_process";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { SYS } from "@sandbox/abi";
import { Sandbox } from "../src/sandbox";
import { makeTempDir, PLATFORMS, runNative, runSandboxed } from "./harness";

const MIB = 1024 * 1024;
let work: ReturnType<typeof makeTempDir>;
let program: string;

beforeAll(() => {
  work = makeTempDir("runsc-memory");
  program = join(work.path, "memory_probe");
  execFileSync("gcc", ["-static", "-O1", "-o", program, join(__dirname, "fixtures/memory_probe.c")]);
});

afterAll(() => work?.dispose());

/** Counts the pages of the memory file whose first bytes are the probe's marker. */
function countMarkedPages(sandbox: Sandbox): number {
  const marker = Buffer.from("sandbox-memory-probe-marker");
  const chunk = Buffer.alloc(4 * MIB);
  let count = 0;
  for (let offset = 0; offset < sandbox.memoryFile.size; offset += chunk.length) {
    const length = Math.min(chunk.length, sandbox.memoryFile.size - offset);
    sandbox.memoryFile.read(offset, chunk.subarray(0, length));
    for (let page = 0; page < length; page += 4096) {
      if (chunk.subarray(page, page + marker.length).equals(marker)) count++;
    }
  }
  return count;
}

it("memory lives in the memfd and is given back", async () => {
  const allocated: number[] = [];
  const markedPages: number[] = [];
  const devNull = openSync("/dev/null", "r+");
  const sandbox = new Sandbox({
    platform: "ptrace",
    onSyscallExit: (_task, nr) => {
      if (nr !== SYS.getppid) return;
      allocated.push(sandbox.memoryFile.allocatedBytes());
      markedPages.push(countMarkedPages(sandbox));
    },
  });
  try {
    const status = await sandbox.run({ argv: [program], stdio: [devNull, devNull, devNull] });
    expect(status).toEqual({ kind: "exited", code: 0 });
  } finally {
    sandbox.close();
    closeSync(devNull);
  }

  expect(allocated).toHaveLength(4);
  expect(markedPages[0]).toBe(32 * 256);
  expect(allocated[0]).toBeGreaterThanOrEqual(32 * MIB);
  expect(markedPages[1]).toBe(0);
  expect(allocated[0] - allocated[1]).toBeGreaterThanOrEqual(32 * MIB);
  expect(markedPages[2]).toBe(32 * 256);
  expect(allocated[2] - allocated[1]).toBeGreaterThanOrEqual(32 * MIB);
  expect(markedPages[3]).toBe(0);
  expect(allocated[2] - allocated[3]).toBeGreaterThanOrEqual(32 * MIB);
});

it("fork of a 1 GiB process copies nothing up front", async () => {
  const forkProgram = join(work.path, "fork_large");
  execFileSync("gcc", ["-O1", "-o", forkProgram, join(__dirname, "fixtures/fork_large.c")]);
  const allocated: number[] = [];
  const devNull = openSync("/dev/null", "r+");
  const sandbox = new Sandbox({
    platform: "ptrace",
    onSyscallExit: (_task, nr) => {
      if (nr === SYS.getppid) allocated.push(sandbox.memoryFile.allocatedBytes());
    },
  });
  try {
    const status = await sandbox.run({ argv: [forkProgram], stdio: [devNull, devNull, devNull] });
    expect(status).toEqual({ kind: "exited", code: 0 });
  } finally {
    sandbox.close();
    closeSync(devNull);
  }

  expect(allocated).toHaveLength(3);
  expect(allocated[0]).toBeGreaterThanOrEqual(1024 * MIB);
  // The child exists and shares every page: less than 64 MiB more than before the fork.
  expect(allocated[1] - allocated[0]).toBeLessThan(64 * MIB);
  // One write copies a region, not the heap.
  expect(allocated[2] - allocated[0]).toBeLessThan(64 * MIB);
});

const MAP_FILE_SCRIPT = [
  "import mmap, subprocess, sys",
  "path = sys.argv[1]",
  "with open(path, 'rb') as f:",
  "    shared = mmap.mmap(f.fileno(), 0, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ)",
  "    private = mmap.mmap(f.fileno(), 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE)",
  "print(shared[:8], private[-8:], len(shared))",
  "private[0:5] = b'XXXXX'",
  "private[-3:] = b'YYY'",
  "print(private[:8], private[-8:], shared[:8])",
  "child = 'import mmap, sys; f = open(sys.argv[1], \"rb\"); m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ); print(m[:8], m[-8:])'",
  "print(subprocess.run([sys.executable, '-c', child, path], capture_output=True).stdout.decode().strip())",
  "print(open(path, 'rb').read(8))",
].join("\n");

it.each(PLATFORMS)("mmap of host files on %s", (platform) => {
  // A host file under the sandbox's read-only root: its pages come from the page cache.
  const path = join(work.path, "mapped.bin");
  writeFileSync(path, Buffer.concat([Buffer.from("original"), Buffer.alloc(3 * 4096, "m"), Buffer.from("end-of-file")]));
  const argv = ["/usr/bin/python3", "-c", MAP_FILE_SCRIPT, path];
  const native = runNative(argv);
  expect(native.status).toBe(0);
  const sandboxed = runSandboxed(argv, { runscArgs: [`--platform=${platform}`] });
  expect(sandboxed.stderr).toBe("");
  expect(sandboxed.stdout).toBe(native.stdout);
  expect(sandboxed.status).toBe(0);
  expect(readFileSync(path, "utf8").slice(0, 8)).toBe("original");
});

it.each(PLATFORMS)("fork from a thread on %s", (platform) => {
  const program = join(work.path, "fork_from_thread");
  execFileSync("gcc", ["-O1", "-pthread", "-o", program, join(__dirname, "fixtures/fork_from_thread.c")]);
  const native = runNative([program]);
  expect(native.stdout).toBe("fork 0: child 0, parent wrong bytes 0\nfork 1: child 0, parent wrong bytes 0\nfork 2: child 0, parent wrong bytes 0\n");
  const sandboxed = runSandboxed([program], { runscArgs: [`--platform=${platform}`] });
  expect(sandboxed.stdout).toBe(native.stdout);
  expect(sandboxed.status).toBe(0);
});
