import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Assembles Intel-syntax x86-64 `source` placed at `address` with the
 * host's binutils and returns the bytes of its .text section.
 */
export function assemble(source: string, address: number): Uint8Array {
  const work = mkdtempSync(join(tmpdir(), "systrap-asm-"));
  try {
    writeFileSync(join(work, "a.s"), `.intel_syntax noprefix\n.text\n.globl _start\n_start:\n${source}\n`);
    execFileSync("as", ["--64", "-o", join(work, "a.o"), join(work, "a.s")]);
    execFileSync("ld", ["-Ttext", `0x${address.toString(16)}`, "-e", "_start", "-o", join(work, "a.elf"), join(work, "a.o")]);
    execFileSync("objcopy", ["-O", "binary", "-j", ".text", join(work, "a.elf"), join(work, "a.bin")]);
    return new Uint8Array(readFileSync(join(work, "a.bin")));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Compiles a freestanding static C program (entry `_start`) and returns the ELF bytes. */
export function compileStatic(cSource: string): Uint8Array {
  const work = mkdtempSync(join(tmpdir(), "systrap-cc-"));
  try {
    writeFileSync(join(work, "p.c"), cSource);
    execFileSync("gcc", [
      "-O1", "-static", "-nostdlib", "-ffreestanding", "-fno-pie", "-no-pie", "-fno-stack-protector",
      "-fcf-protection=none", "-Wl,--build-id=none", "-o", join(work, "p.elf"), join(work, "p.c"),
    ]);
    return new Uint8Array(readFileSync(join(work, "p.elf")));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
