import { defineConfig } from "tsup";

export default defineConfig({
  // gofer.ts is the program that spawnGofer starts (dist/gofer.js, beside index.js).
  entry: ["src/index.ts", "src/gofer.ts"],
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  sourcemap: true,
  shims: true,
  target: "node20",
  external: ["koffi"],
});
