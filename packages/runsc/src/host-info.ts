// Facts about the host that runsc reads before it starts a sandbox: the
// caller's limits and the CPU capability words that programs get in their
// auxiliary vector. Only runsc reads these files; the Sentry opens none.
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import type { Rlimit } from "@sandbox/sentry";

const AT_HWCAP = 16n;
const AT_HWCAP2 = 26n;

/** RLIMIT_* numbers by the names /proc/self/limits prints. */
const LIMIT_NAMES: Record<string, number> = {
  "Max cpu time": 0,
  "Max file size": 1,
  "Max data size": 2,
  "Max stack size": 3,
  "Max core file size": 4,
  "Max resident set": 5,
  "Max processes": 6,
  "Max open files": 7,
  "Max locked memory": 8,
  "Max address space": 9,
  "Max file locks": 10,
  "Max pending signals": 11,
  "Max msgqueue size": 12,
  "Max nice priority": 13,
  "Max realtime priority": 14,
  "Max realtime timeout": 15,
};

/** Returns the calling process's resource limits, parsed from /proc/self/limits. */
export function hostRlimits(): Map<number, Rlimit> {
  const limits = new Map<number, Rlimit>();
  const text = readFileSync("/proc/self/limits", "utf8");
  for (const line of text.split("\n").slice(1)) {
    const name = Object.keys(LIMIT_NAMES).find((candidate) => line.startsWith(candidate));
    if (name === undefined) continue;
    const [soft, hard] = line.slice(26).trim().split(/\s+/);
    const parse = (value: string) => (value === "unlimited" ? Infinity : Number(value));
    limits.set(LIMIT_NAMES[name], { soft: parse(soft), hard: parse(hard) });
  }
  return limits;
}

/** Returns AT_HWCAP and AT_HWCAP2 of this process, from /proc/self/auxv. */
export function hostHardwareCapabilities(): { hwcap: bigint; hwcap2: bigint } {
  const auxv = readFileSync("/proc/self/auxv");
  let hwcap = 0n;
  let hwcap2 = 0n;
  for (let offset = 0; offset + 16 <= auxv.length; offset += 16) {
    const type = auxv.readBigUInt64LE(offset);
    const value = auxv.readBigUInt64LE(offset + 8);
    if (type === AT_HWCAP) hwcap = value;
    if (type === AT_HWCAP2) hwcap2 = value;
  }
  return { hwcap, hwcap2 };
}

/** Number of host CPUs the sandbox reports. */
export function hostCpuCount(): number {
  return Math.max(1, cpus().length);
}
