import type { MemoryFile } from "@sandbox/mm";
import { type Platform, PlatformUnavailableError } from "@sandbox/platform";
import { KvmPlatform } from "@sandbox/platform-kvm";
import { PtracePlatform } from "@sandbox/platform-ptrace";
import { SystrapPlatform } from "@sandbox/platform-systrap";

/**
 * Platform names in the order `--platform=auto` tries them. systrap comes
 * first, because a system call costs a few microseconds there against tens
 * under ptrace. kvm comes next, for its hardware-enforced address spaces.
 * ptrace comes last, because it works wherever ptrace is allowed.
 * NOTE: on PVM hosts kvm returns to user mode from the host and is slower than ptrace.
 */
export const AUTO_ORDER = ["systrap", "kvm", "ptrace"] as const;

/** A started platform and why it was chosen. */
export interface PlatformChoice {
  readonly platform: Platform;
  readonly reason: string;
}

/** Runs the start-up probe of `platform`, closing it if the probe fails. */
function probed<T extends Platform & { probe(): unknown }>(platform: T): T {
  try {
    platform.probe();
  } catch (error) {
    platform.close();
    throw error;
  }
  return platform;
}

function startPlatform(name: string, memoryFile: MemoryFile): Platform {
  switch (name) {
    case "ptrace":
      return probed(new PtracePlatform({ memoryFile }));
    case "systrap":
      return probed(new SystrapPlatform({ memoryFile }));
    case "kvm":
      return probed(new KvmPlatform({ memoryFile }));
    default:
      throw new PlatformUnavailableError(name, "unknown platform");
  }
}

/**
 * Starts the platform `name`, or for "auto" the first platform in AUTO_ORDER
 * whose start-up probe passes. Throws PlatformUnavailableError with every
 * reason when none can start.
 */
export function choosePlatform(name: string, memoryFile: MemoryFile): PlatformChoice {
  if (name !== "auto") return { platform: startPlatform(name, memoryFile), reason: `--platform=${name} was requested` };

  const failures: string[] = [];
  for (const candidate of AUTO_ORDER) {
    try {
      const platform = startPlatform(candidate, memoryFile);
      const skipped = failures.length === 0 ? "" : ` after ${failures.join("; ")}`;
      return { platform, reason: `--platform=auto chose ${candidate}, the first whose probe passed${skipped}` };
    } catch (error) {
      failures.push((error as Error).message);
    }
  }
  throw new PlatformUnavailableError("auto", failures.join("; "));
}
