import { readFileSync } from "node:fs";
import { UserRegsOffset } from "@sandbox/abi";
import { Prot } from "@sandbox/platform";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MemoryFile } from "../../mm/src/memory-file";
import { assemble } from "../../platform-systrap/test/assemble";
import { PtracePlatform } from "../src/ptrace-platform";

const CODE = 0x40_0000;
const SPIN = 0x41_0000;
const PAGE = 4096;
const HAS_AVX512 = /\bavx512f\b/.test(readFileSync("/proc/cpuinfo", "utf8"));

// A context whose stub thread another context took meanwhile continues in
// another stub thread. Its vector registers must come along whole: the
// upper halves of the YMM registers and, with AVX-512, ZMM16-31 are not in
// the FXSAVE image that PTRACE_GETFPREGS moves.
describe("ptrace FPU state", () => {
  let memoryFile: MemoryFile;
  let platform: PtracePlatform;
  beforeEach(() => {
    memoryFile = MemoryFile.create("ptrace-fpu");
    platform = new PtracePlatform({ memoryFile });
  });
  afterEach(() => {
    platform.close();
    memoryFile.close();
  });

  function load(source: string, address: number, offset: number, as: ReturnType<PtracePlatform["newAddressSpace"]>) {
    const code = assemble(source, address);
    memoryFile.grow(offset + PAGE);
    memoryFile.write(offset, code);
    as.mapFile(address, PAGE, offset, Prot.Read | Prot.Exec);
  }

  it("keeps vector state across stub threads", async () => {
    const as = platform.newAddressSpace();
    const wide = HAS_AVX512 ? "vpbroadcastq zmm17, rbx\nvpbroadcastq ymm0, rbx" : "vpbroadcastq ymm0, rbx";
    const back = HAS_AVX512 ? "vextracti32x4 xmm2, zmm17, 3\nmovq rdi, xmm2" : "";
    load(`${wide}\nmov eax, 39\nsyscall\nvextracti128 xmm1, ymm0, 1\nmovq rsi, xmm1\n${back}\nmov eax, 40\nsyscall`, CODE, 0, as);
    load("loop: jmp loop", SPIN, PAGE, as);

    const first = platform.newContext();
    first.regs.rip = CODE;
    first.regs.set(UserRegsOffset.rbx, 0x1234_5678_9abc_def0n);
    expect((await first.switchTo(as)).kind).toBe("syscall");

    // A second context takes the first one's stub thread and keeps it busy.
    const second = platform.newContext();
    second.regs.rip = SPIN;
    const spinning = second.switchTo(as);

    try {
      expect((await first.switchTo(as)).kind).toBe("syscall");
      expect(first.regs.syscallNumber).toBe(40);
      expect(first.regs.get(UserRegsOffset.rsi)).toBe(0x1234_5678_9abc_def0n);
      if (HAS_AVX512) expect(first.regs.get(UserRegsOffset.rdi)).toBe(0x1234_5678_9abc_def0n);
    } finally {
      second.interrupt();
      expect((await spinning).kind).toBe("interrupt");
    }
  });
});
