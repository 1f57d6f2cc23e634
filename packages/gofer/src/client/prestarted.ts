import type { SpawnedGofer } from "./spawnGofer";

/** Key of the prestarted gofers in globalThis, shared by every bundle that includes this package. */
const REGISTRY = Symbol.for("@sandbox/gofer/prestarted");

/**
 * A gofer started before the sandbox that will use it: spawned by
 * prestartGofer, or started by runsc's launcher and handed over by pid,
 * not connected yet.
 */
export type PrestartedGofer =
  | { readonly kind: "spawned"; readonly root: string; readonly readOnly: boolean; readonly gofer: SpawnedGofer }
  | { readonly kind: "handed-off"; readonly root: string; readonly readOnly: boolean; readonly pid: number };

/** Returns the list of gofers started ahead of use in this process. This module loads no native code. */
export function prestartedGofers(): PrestartedGofer[] {
  const holder = globalThis as unknown as Record<symbol, PrestartedGofer[] | undefined>;
  holder[REGISTRY] ??= [];
  return holder[REGISTRY];
}
