import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Runs a command and returns its stdout; rejects with its stderr on failure. */
export async function sh(cmd: string, args: string[], timeoutMs = 30_000): Promise<string> {
  const { stdout } = await run(cmd, args, { timeout: timeoutMs, maxBuffer: 64 << 20 });
  return stdout;
}

/** Runs a command inside network namespace `ns`. */
export function inNs(ns: string, cmd: string, args: string[], timeoutMs = 30_000): Promise<string> {
  return sh("ip", ["netns", "exec", ns, cmd, ...args], timeoutMs);
}

/** Starts a long-running command inside `ns`; the caller kills it by PID. */
export function spawnInNs(ns: string, cmd: string, args: string[]): ChildProcess {
  return spawn("ip", ["netns", "exec", ns, cmd, ...args], { stdio: ["ignore", "pipe", "pipe"] });
}

/** A short unique name (at most 15 characters, the interface name limit). */
export function uniqueName(prefix: string): string {
  return `${prefix}${process.pid % 10000}${randomBytes(2).toString("hex")}`.slice(0, 15);
}

/** Reports whether this process can create network namespaces and TAP devices. */
export async function canUseNetns(): Promise<boolean> {
  if (process.getuid?.() !== 0) return false;
  try {
    await sh("ip", ["-V"]);
    return true;
  } catch {
    return false;
  }
}
