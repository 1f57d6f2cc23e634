// Starts real gofer processes for tests. The gofer program is bundled from
// src/gofer.ts with esbuild into a temporary directory, so tests never run
// a stale dist/ build.
import { createRequire } from "node:module";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { GoferFileSystem } from "../src/client/GoferFileSystem";
import { type GoferExit, type GoferProcess, spawnGofer } from "../src/client/spawnGofer";

const requireHere = createRequire(import.meta.url);
const packageRoot = resolve(__dirname, "..");
const packagesDir = resolve(packageRoot, "..");

/** A bundled gofer program in a temporary directory. */
export interface GoferProgram {
  path: string;
  /** Removes the temporary directory. */
  remove(): void;
}

/**
 * Bundles `entry` (a file of this package, src/gofer.ts by default) into a
 * single CommonJS file. @sandbox/* imports come from their sources, and
 * koffi from its absolute path, so the file runs from any directory.
 */
export async function bundleProgram(entry = "src/gofer.ts"): Promise<GoferProgram> {
  const directory = mkdtempSync(join(tmpdir(), "gofer-program-"));
  const path = join(directory, "gofer.cjs");
  const koffiPath = requireHere.resolve("koffi");
  try {
    await build({
      entryPoints: [resolve(packageRoot, entry)],
      outfile: path,
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      logLevel: "error",
      plugins: [
        {
          name: "workspace",
          setup(pluginBuild) {
            pluginBuild.onResolve({ filter: /^koffi$/ }, () => ({ path: koffiPath, external: true }));
            pluginBuild.onResolve({ filter: /^@sandbox\/[a-z-]+$/ }, (args) => ({
              path: resolve(packagesDir, args.path.slice("@sandbox/".length), "src/index.ts"),
            }));
          },
        },
      ],
    });
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
  return { path, remove: () => rmSync(directory, { recursive: true, force: true }) };
}

/** A running gofer and the file system attached to it. */
export interface RunningGofer {
  fs: GoferFileSystem;
  process: GoferProcess;
  /** Closes the connection and waits until the gofer has exited. */
  stop(): Promise<GoferExit>;
}

/**
 * Starts a gofer on `root` with `program` and attaches a GoferFileSystem
 * with st_dev `dev`, caching the gofer's replies if `cache` is true.
 */
export function startGofer(program: GoferProgram, root: string, readOnly: boolean, dev = 99, cache = false): RunningGofer {
  const { process: goferProcess, connection } = spawnGofer({ root, readOnly, program: program.path });
  let fs: GoferFileSystem;
  try {
    fs = new GoferFileSystem(connection, { dev, cache });
  } catch (error) {
    connection.close();
    goferProcess.kill();
    throw error;
  }
  return {
    fs,
    process: goferProcess,
    async stop() {
      fs.close();
      return goferProcess.exited;
    },
  };
}

/**
 * Reports whether process `pid` still runs: it exists and is no zombie.
 * A zombie counts as gone, as its parent may not reap it at once.
 */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}
