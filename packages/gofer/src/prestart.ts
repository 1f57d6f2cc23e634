// Starts the root gofer of `runsc do` while the rest of runsc is still
// loading, so the gofer's own start-up (a Node process) overlaps with it.
// This entry is bundled on its own, with only what spawnGofer needs.
import { type SpawnedGofer, spawnGofer, type SpawnGoferOptions } from "./client/spawnGofer";

/** Key of the prestarted gofers in globalThis, shared by every bundle that includes this package. */
const REGISTRY = Symbol.for("@sandbox/gofer/prestarted");

interface Prestarted {
  readonly options: SpawnGoferOptions;
  readonly gofer: SpawnedGofer;
}

function registry(): Prestarted[] {
  const holder = globalThis as unknown as Record<symbol, Prestarted[] | undefined>;
  holder[REGISTRY] ??= [];
  return holder[REGISTRY];
}

/** Starts a gofer for `options` now and keeps it for a later `takePrestartedGofer` with the same root and mode. */
export function prestartGofer(options: SpawnGoferOptions): void {
  registry().push({ options, gofer: spawnGofer(options) });
}

/** Ends every prestarted gofer that no sandbox adopted, so none keeps this process alive. */
export function discardPrestartedGofers(): void {
  for (const entry of registry().splice(0)) {
    entry.gofer.connection.close();
    entry.gofer.process.kill();
  }
}

/** Removes from the registry and returns a prestarted gofer for `root` and `readOnly`, or undefined if none was started. */
export function takePrestartedGofer(root: string, readOnly: boolean): SpawnedGofer | undefined {
  const list = registry();
  const index = list.findIndex((entry) => entry.options.root === root && entry.options.readOnly === readOnly);
  if (index < 0) return undefined;
  return list.splice(index, 1)[0].gofer;
}
