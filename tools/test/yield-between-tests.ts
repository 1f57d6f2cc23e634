// Lets each test worker's event loop turn between tests. Most integration
// tests wait for sandboxes with spawnSync, which blocks the loop, and vitest
// reads the replies to its worker's messages only when the loop turns. A
// file of such tests that ran for more than 60 s in one stretch failed the
// run with "Timeout calling onTaskUpdate", although every test passed.
import { afterEach } from "vitest";

afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)));
