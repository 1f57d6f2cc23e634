// runsc's code cache (bin/compile-cache.js): entries appear after a run,
// the next run takes its modules from them, broken entries are replaced,
// and a directory that others can write is never used.
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUSYBOX, makeTempDir, runNative, runSandboxed } from "./harness";

const FROM_CACHE = /compile cache (\S+): (\d+) modules from the cache, (\d+) compiled/;

let work: ReturnType<typeof makeTempDir>;

beforeAll(() => {
  work = makeTempDir("runsc-compile-cache");
});

afterAll(() => work?.dispose());

/** Runs `busybox echo hello` with the cache in `directory` and returns the debug log's counts for it. */
function run(directory: string): { fromCache: number; compiled: number } | undefined {
  const native = runNative([BUSYBOX, "echo", "hello"]);
  const result = runSandboxed([BUSYBOX, "echo", "hello"], {
    runscArgs: ["--debug"],
    env: { ...process.env, SANDBOX_RUNSC_COMPILE_CACHE: directory },
  });
  expect(result.stdout).toBe(native.stdout);
  expect(result.status).toBe(0);
  const match = FROM_CACHE.exec(result.stderr);
  if (match === null) return undefined;
  expect(match[1]).toBe(directory);
  return { fromCache: Number(match[2]), compiled: Number(match[3]) };
}

describe("compile cache", () => {
  it("fills a new directory, then serves every module from it", () => {
    const directory = join(work.path, "fresh");
    const first = run(directory);
    expect(first?.fromCache).toBe(0);
    expect(first?.compiled).toBeGreaterThan(5);
    expect(statSync(directory).mode & 0o777).toBe(0o700);
    const entries = readdirSync(directory);
    expect(entries.length).toBe(first?.compiled);

    const second = run(directory);
    expect(second).toEqual({ fromCache: first?.compiled, compiled: 0 });
  });

  it("replaces damaged entries", () => {
    const directory = join(work.path, "broken");
    const first = run(directory);
    for (const name of readdirSync(directory)) {
      // Inverted bytes in the middle of V8's data, which V8 itself ran and crashed on.
      const entry = readFileSync(join(directory, name));
      const middle = Math.floor(entry.length / 2);
      for (let i = middle; i < Math.min(entry.length, middle + 64); i++) entry[i] ^= 0xff;
      writeFileSync(join(directory, name), entry);
    }
    expect(run(directory)).toEqual({ fromCache: 0, compiled: first?.compiled });
    expect(run(directory)).toEqual({ fromCache: first?.compiled, compiled: 0 });
  });

  it("never uses a directory that others can write", () => {
    const directory = join(work.path, "shared");
    mkdirSync(directory, { mode: 0o777 });
    chmodSync(directory, 0o777);
    expect(run(directory)).toBeUndefined();
    expect(readdirSync(directory)).toEqual([]);
  });

  it("is off when asked", () => {
    expect(run("off")).toBeUndefined();
  });
});
