import { defineConfig } from "tsup";

export default defineConfig([
  {
    entry: ["src/index.ts"],
    format: ["esm", "cjs"],
    dts: true,
    clean: true,
    sourcemap: true,
    shims: true,
    target: "node20",
    external: ["koffi"],
  },
  {
    // gofer.ts is the program that spawnGofer starts (dist/gofer.js, beside
    // index.js). It is bundled with the parts of @sandbox/abi it uses, so a
    // sandbox's start does not wait for the whole ABI tables to load.
    entry: ["src/gofer.ts"],
    format: ["cjs"],
    sourcemap: true,
    target: "node20",
    external: ["koffi"],
    noExternal: ["@sandbox/abi"],
    treeshake: true,
    shims: true,
  },
  {
    // What runsc loads first. @sandbox/abi stays external, so errors thrown
    // here are the same SyscallError class the Sentry checks for.
    entry: ["src/prestart.ts"],
    format: ["cjs"],
    sourcemap: true,
    target: "node20",
    external: ["koffi"],
    shims: true,
  },
  {
    // The entry that runsc loads first when its launcher started the gofer.
    // It only records the gofer's pid, and loads no native code.
    entry: ["src/handoff.ts"],
    format: ["cjs"],
    sourcemap: true,
    target: "node20",
  },
]);
