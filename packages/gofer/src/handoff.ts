// Registers the gofer that runsc's launcher (bin/runsc of @sandbox/runsc)
// started beside runsc, for takePrestartedGofer to adopt. This entry is
// bundled on its own and loads no native code: runsc loads it first, and
// connects to the gofer only when a sandbox takes it.
import { prestartedGofers } from "./client/prestarted";

/**
 * Records that the child process `pid` is a gofer for `options.root`,
 * started with `--handoff=<this pid>`. takePrestartedGofer with the same root
 * and mode connects to it, and discardPrestartedGofers kills it unless taken.
 */
export function expectHandedOffGofer(pid: number, options: { root: string; readOnly: boolean }): void {
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new RangeError(`invalid gofer pid ${pid}`);
  prestartedGofers().push({ kind: "handed-off", root: options.root, readOnly: options.readOnly, pid });
}
