// A gcc -static C program run natively and in the sandbox: file I/O,
// getdents64, clocks, a 64 MiB heap and direct mmap/munmap/mprotect/mremap.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir, DIFFERENTIAL_PLATFORMS, runNative, runSandboxed } from "./harness";

let work: ReturnType<typeof makeTempDir>;
let program: string;

beforeAll(() => {
  work = makeTempDir("runsc-static-c");
  program = join(work.path, "files_and_memory");
  execFileSync("gcc", ["-static", "-O1", "-o", program, join(__dirname, "fixtures/files_and_memory.c")]);
  writeFileSync(join(work.path, "data.txt"), "0123456789abcdefghijklmnopqrstuvwxyz\n");
  mkdirSync(join(work.path, "dir"));
  for (const name of ["one", "two", "three"]) writeFileSync(join(work.path, "dir", name), name);
});

afterAll(() => work?.dispose());

describe.each(DIFFERENTIAL_PLATFORMS)("static C fixture on %s", (platform) => {
  it.each([0, 3, 42])("matches the native run with status %i", (status) => {
    const argv = [program, join(work.path, "data.txt"), join(work.path, "dir"), String(status)];
    const native = runNative(argv);
    const sandboxed = runSandboxed(argv, { runscArgs: [`--platform=${platform}`] });
    expect(native.status).toBe(status);
    expect(sandboxed.stdout).toBe(native.stdout);
    expect(sandboxed.stderr).toBe(native.stderr);
    expect(sandboxed.status).toBe(status);
    expect(sandboxed.stdout).not.toContain("FAILED");
  });
});
