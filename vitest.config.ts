import { readdirSync } from "node:fs";
import { resolve } from "node:path";
import { defineConfig } from "vitest/config";

// Tests import workspace packages from their sources, so a unit test never
// runs against a stale build. Integration tests that start the `runsc` bin
// use the build that `npm test` makes first.
const packagesDir = resolve(__dirname, "packages");
const alias = [
  { find: /^@sandbox\/platform\/conformance$/, replacement: resolve(packagesDir, "platform/src/conformance.ts") },
  ...readdirSync(packagesDir).map((name) => ({
    find: new RegExp(`^@sandbox/${name}$`),
    replacement: resolve(packagesDir, name, "src/index.ts"),
  })),
];

export default defineConfig({
  resolve: { alias },
  test: {
    include: ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts"],
    pool: "forks",
    setupFiles: [resolve(__dirname, "tools/test/yield-between-tests.ts")],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
