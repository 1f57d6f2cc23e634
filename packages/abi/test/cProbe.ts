import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Compiles a C program with the host's gcc in a fresh temporary directory,
 * runs it and returns its standard output. The directory is removed even
 * when compiling or running fails.
 */
export function runC(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), "abi-cprobe-"));
  try {
    const sourcePath = join(dir, "probe.c");
    const binaryPath = join(dir, "probe");
    writeFileSync(sourcePath, source);
    execFileSync("gcc", ["-std=gnu11", "-w", "-o", binaryPath, sourcePath], { stdio: ["ignore", "pipe", "pipe"] });
    return execFileSync(binaryPath, { encoding: "utf8" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function includes(headers: readonly string[]): string {
  return ["#define _GNU_SOURCE", ...headers.map((header) => `#include <${header}>`), "#include <stdio.h>", "#include <stddef.h>"]
    .join("\n");
}

/**
 * Returns the values the host's headers give to the named macros, as signed
 * 64-bit integers. A name the headers do not define as a macro maps to undefined.
 */
export function probeMacros(headers: readonly string[], names: readonly string[]): Map<string, bigint | undefined> {
  const lines = names.map((name) =>
    [`#ifdef ${name}`, `printf("${name} %lld\\n", (long long)(${name}));`, "#else", `printf("${name} ?\\n");`, "#endif"].join("\n"),
  );
  return parseValues(runC(`${includes(headers)}\nint main(void) {\n${lines.join("\n")}\nreturn 0;\n}\n`));
}

/** Returns the values of C expressions (enumerators, sizeof, offsetof), which must all compile. */
export function probeExpressions(headers: readonly string[], expressions: Readonly<Record<string, string>>): Map<string, bigint> {
  const lines = Object.entries(expressions).map(([key, expression]) => `printf("${key} %lld\\n", (long long)(${expression}));`);
  const values = parseValues(runC(`${includes(headers)}\nint main(void) {\n${lines.join("\n")}\nreturn 0;\n}\n`));
  return new Map([...values].map(([key, value]) => [key, value as bigint]));
}

function parseValues(output: string): Map<string, bigint | undefined> {
  const values = new Map<string, bigint | undefined>();
  for (const line of output.trim().split("\n")) {
    const [key, value] = line.split(" ");
    values.set(key, value === "?" ? undefined : BigInt(value));
  }
  return values;
}

/**
 * Compares a constants object with the host's C headers: every name the
 * headers define as a macro must have the same value. Returns the names the
 * headers lack (constants newer than the installed linux-libc-dev, or ones
 * only the kernel defines), so a test can assert which may be missing.
 */
export function compareWithHeaders(
  headers: readonly string[],
  constants: Readonly<Record<string, number | bigint>>,
): { mismatches: string[]; missing: string[] } {
  const probed = probeMacros(headers, Object.keys(constants));
  const mismatches: string[] = [];
  const missing: string[] = [];
  for (const [name, value] of Object.entries(constants)) {
    const expected = probed.get(name);
    if (expected === undefined) {
      missing.push(name);
    } else if (BigInt.asIntN(64, BigInt(value)) !== expected) {
      mismatches.push(`${name}: ours ${value}, headers ${expected}`);
    }
  }
  return { mismatches, missing };
}
