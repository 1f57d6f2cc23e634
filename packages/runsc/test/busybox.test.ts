// Differential tests: Debian's busybox-static applets run natively and in the
// sandbox over the same real files; output and exit status must match.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUSYBOX, leftoverSandboxProcesses, makeTempDir, DIFFERENTIAL_PLATFORMS, runNative, runSandboxed, runShell, RUNSC_BIN } from "./harness";

let work: ReturnType<typeof makeTempDir>;

/** A deterministic pseudo-random 2 MB file, so hashes are the same on every run. */
function makeBigFile(path: string): void {
  const data = Buffer.alloc(2_000_000);
  let state = 0x12345678;
  for (let i = 0; i < data.length; i += 4) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    data.writeUInt32LE(state, i);
  }
  writeFileSync(path, data);
}

beforeAll(() => {
  work = makeTempDir("runsc-busybox");
  const lines = ["pear 3", "apple 1", "fig 7", "apple 1", "banana 2", "cherry 5", "banana 2", "date 4"];
  writeFileSync(join(work.path, "fruits.txt"), `${lines.join("\n")}\n`);
  writeFileSync(join(work.path, "table.csv"), "id:name:shell\n1:root:/bin/sh\n2:daemon:/usr/sbin/nologin\n3:alice:/bin/bash\n");
  makeBigFile(join(work.path, "big.bin"));
});

afterAll(() => work?.dispose());

/** Normalises what legitimately differs between two runs on one host (inode and device numbers, access times). */
function normaliseStat(text: string): string {
  return text
    .replace(/Device: \S+/g, "Device: X")
    .replace(/Inode: \d+/g, "Inode: X")
    .replace(/Access: \d{4}-\d\d-\d\d [\d:.]+ [+-]\d{4}/g, "Access: X");
}

function expectSameRun(platform: string, argv: string[], normalise: (text: string) => string = (text) => text): void {
  const native = runNative(argv, { cwd: work.path });
  const sandboxed = runSandboxed(argv, { cwd: work.path, runscArgs: [`--platform=${platform}`] });
  expect(normalise(sandboxed.stdout)).toBe(normalise(native.stdout));
  expect(sandboxed.stderr).toBe(native.stderr);
  expect(sandboxed.status).toBe(native.status);
}

describe.each(DIFFERENTIAL_PLATFORMS)("busybox applets on %s", (platform) => {
  it("echo hello through npx", () => {
    const result = runShell(`npx --no-install runsc --platform=${platform} do ${BUSYBOX} echo hello`, { cwd: join(__dirname, "..") });
    expect(result.stdout).toBe("hello\n");
    expect(result.status).toBe(0);
  });

  const cases: Array<[string, string[]]> = [
    ["echo", [BUSYBOX, "echo", "hello"]],
    ["cat", [BUSYBOX, "cat", "fruits.txt", "table.csv"]],
    ["head", [BUSYBOX, "head", "-n", "3", "fruits.txt"]],
    ["tail", [BUSYBOX, "tail", "-n", "2", "fruits.txt"]],
    ["wc", [BUSYBOX, "wc", "fruits.txt", "big.bin"]],
    ["sort", [BUSYBOX, "sort", "fruits.txt"]],
    ["uniq", [BUSYBOX, "uniq", "-c", "fruits.txt"]],
    ["cut", [BUSYBOX, "cut", "-d:", "-f2", "table.csv"]],
    ["grep", [BUSYBOX, "grep", "-n", "an", "fruits.txt"]],
    ["grep without match", [BUSYBOX, "grep", "kiwi", "fruits.txt"]],
    ["sed", [BUSYBOX, "sed", "-e", "s/a/A/g", "-e", "2d", "fruits.txt"]],
    ["md5sum", [BUSYBOX, "md5sum", "big.bin"]],
    ["sha256sum", [BUSYBOX, "sha256sum", "big.bin"]],
    ["ls -la /etc", [BUSYBOX, "ls", "-la", "/etc"]],
    ["find", [BUSYBOX, "find", "/etc", "-maxdepth", "1", "-name", "*.conf"]],
    ["env", [BUSYBOX, "env"]],
    ["printenv", [BUSYBOX, "printenv", "PATH", "HOME"]],
    ["true", [BUSYBOX, "true"]],
    ["false", [BUSYBOX, "false"]],
    ["expr", [BUSYBOX, "expr", "6", "*", "7"]],
    ["expr false", [BUSYBOX, "expr", "0", "+", "0"]],
    ["cat of a missing file", [BUSYBOX, "cat", "missing.txt"]],
  ];
  it.each(cases)("%s", (_name, argv) => {
    expectSameRun(platform, argv);
  });

  it("tr reads stdin", () => {
    const native = runNative([BUSYBOX, "tr", "a-z", "A-Z"], { input: "hello sandbox\n" });
    const sandboxed = runSandboxed([BUSYBOX, "tr", "a-z", "A-Z"], { input: "hello sandbox\n", runscArgs: [`--platform=${platform}`] });
    expect(sandboxed.stdout).toBe(native.stdout);
    expect(sandboxed.status).toBe(native.status);
  });

  it("stat", () => {
    expectSameRun(platform, [BUSYBOX, "stat", "fruits.txt", "/etc/passwd", "/etc"], normaliseStat);
  });

  it("seq 1 100000 | wc -l", () => {
    const script = (runsc: string) => `${runsc} ${BUSYBOX} seq 1 100000 | ${runsc} ${BUSYBOX} wc -l`;
    const native = runShell(script(""));
    const sandboxed = runShell(script(`${process.execPath} ${RUNSC_BIN} --platform=${platform} do`));
    expect(sandboxed.stdout).toBe(native.stdout);
    expect(sandboxed.stdout.trim()).toBe("100000");
    expect(sandboxed.status).toBe(0);
  });

  it("leaves no stub or gofer behind", () => {
    expect(leftoverSandboxProcesses()).toEqual([]);
  });
});
