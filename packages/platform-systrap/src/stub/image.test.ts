import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { Layout, STUB_ELF_BASE64, StubSymbol } from "./image.generated";

const packageDir = resolve(__dirname, "../..");

describe("the shipped stub image", () => {
  it("is what stub/build.mjs makes from the committed sources", () => {
    const work = mkdtempSync(join(tmpdir(), "systrap-image-"));
    try {
      const out = join(work, "image.generated.ts");
      execFileSync(process.execPath, [join(packageDir, "stub/build.mjs"), "--out", out], { stdio: "pipe" });
      const rebuilt = readFileSync(out, "utf8");
      const shipped = readFileSync(join(packageDir, "src/stub/image.generated.ts"), "utf8");
      expect(rebuilt === shipped, "src/stub/image.generated.ts is stale: run `node stub/build.mjs`").toBe(true);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it("is a static x86-64 executable whose code fits below the control region", () => {
    const elf = Buffer.from(STUB_ELF_BASE64, "base64");
    expect(elf.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
    expect(elf.readUInt16LE(16)).toBe(2); // ET_EXEC
    expect(elf.readUInt16LE(18)).toBe(62); // EM_X86_64
    expect(Number(elf.readBigUInt64LE(24))).toBe(StubSymbol.start);
    expect(StubSymbol.start).toBe(Layout.STUB_BASE);
    expect(StubSymbol.stubTextEnd).toBeLessThanOrEqual(Layout.STUB_BASE + Layout.STUB_TEXT_MAX);
    expect(Layout.CONTROL_BASE).toBe(Layout.STUB_BASE + Layout.STUB_TEXT_MAX);
  });

  it("has a layout whose derived values agree", () => {
    expect(Layout.CONTROL_SIZE).toBe(Layout.HEADER_SIZE + Layout.MAX_THREADS * Layout.SLOT_SIZE);
    expect(Layout.CONTROL_END).toBe(Layout.CONTROL_BASE + Layout.CONTROL_SIZE);
    expect(Layout.SLOTS_BASE).toBe(Layout.CONTROL_BASE + Layout.HEADER_SIZE);
    expect(1 << Layout.SLOT_SHIFT).toBe(Layout.SLOT_SIZE);
    expect(Layout.SLOT_FPU + Layout.SLOT_FPU_CAPACITY).toBeLessThanOrEqual(Layout.SLOT_THREAD_STACK_TOP - 0x1000);
    expect(Layout.SLOT_SIGSTACK + Layout.SLOT_SIGSTACK_SIZE).toBe(Layout.SLOT_SIZE);
    expect(Layout.SLOT_REGS + 216).toBeLessThanOrEqual(Layout.SLOT_FPU);
  });
});
