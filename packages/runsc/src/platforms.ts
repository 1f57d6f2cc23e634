import type { MemoryFile } from "@sandbox/mm";
import { type Platform, PlatformUnavailableError } from "@sandbox/platform";
import { PtracePlatform } from "@sandbox/platform-ptrace";

/** Platform names in the order `--platform=auto` tries them. */
export const AUTO_ORDER = ["ptrace"] as const;

/** A started platform and why it was chosen. */
export interface PlatformChoice {
  readonly platform: Platform;
  readonly reason: string;
}

function startPlatform(name: string, memoryFile: MemoryFile): Platform {
  switch (name) {
    case "ptrace": {
      const platform = new PtracePlatform({ memoryFile });
      try {
        platform.probe();
      } catch (error) {
        platform.close();
        throw error;
      }
      return platform;
    }
    case "systrap":
    case "kvm":
      throw new PlatformUnavailableError(name, "this build of runsc does not include it yet");
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
