// Starts the root gofer of `runsc do` while the rest of runsc is still
// loading, so the gofer's own start-up (a Node process) overlaps with it.
// This entry is bundled on its own, with only what spawnGofer needs.
// takePrestartedGofer also adopts the gofer that runsc's launcher started
// (see handoff.ts).
import { adoptHandedOffGofer, discardHandedOffGofer } from "./client/adoptHandedOffGofer";
import { prestartedGofers } from "./client/prestarted";
import { defaultProgram, type SpawnedGofer, spawnGofer, type SpawnGoferOptions } from "./client/spawnGofer";

/** Options of takePrestartedGofer. */
export interface TakeGoferOptions {
  /** The gofer program that a handed-off gofer must run; gofer.js beside this package's bundle by default. */
  program?: string;
  /** Hears whether a handed-off gofer was adopted, and why not, for a debug log. */
  log?: (message: string) => void;
}

/** Starts a gofer for `options` now and keeps it for a later `takePrestartedGofer` with the same root and mode. */
export function prestartGofer(options: SpawnGoferOptions): void {
  prestartedGofers().push({ kind: "spawned", root: options.root, readOnly: options.readOnly, gofer: spawnGofer(options) });
}

/** Ends every prestarted gofer that no sandbox adopted, so none keeps this process alive. */
export function discardPrestartedGofers(): void {
  for (const entry of prestartedGofers().splice(0)) {
    if (entry.kind === "spawned") {
      entry.gofer.connection.close();
      entry.gofer.process.kill();
    } else {
      discardHandedOffGofer(entry.pid);
    }
  }
}

/**
 * Removes from the registry and returns a prestarted gofer for `root` and
 * `readOnly`, or undefined if none was started. A handed-off gofer is
 * connected to now, and undefined is returned if that fails (the gofer is
 * then killed), so the caller starts one of its own.
 */
export function takePrestartedGofer(root: string, readOnly: boolean, options: TakeGoferOptions = {}): SpawnedGofer | undefined {
  const list = prestartedGofers();
  const index = list.findIndex((entry) => entry.root === root && entry.readOnly === readOnly);
  if (index < 0) return undefined;
  const entry = list.splice(index, 1)[0];
  if (entry.kind === "spawned") return entry.gofer;
  const expected = { root, readOnly, program: options.program ?? defaultProgram() };
  return adoptHandedOffGofer(entry.pid, expected, options.log ?? (() => undefined));
}
