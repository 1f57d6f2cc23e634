import { writeSync } from "node:fs";
import { afterEach, expect, it } from "vitest";
import { UserRegsOffset } from "@sandbox/abi";
import { PtracePlatform } from "../src/ptrace-platform";
import * as host from "../src/host.native";

let platform: PtracePlatform | undefined;
afterEach(() => platform?.close());

it("traps getppid and exit", async () => {
  const fd = host.memfdCreate("test-mem", 1);
  const code = Uint8Array.from([0xb8, 110, 0, 0, 0, 0x0f, 0x05, 0xbf, 42, 0, 0, 0, 0xb8, 60, 0, 0, 0, 0x0f, 0x05]);
  writeSync(fd, new Uint8Array(8192), 0, 8192, 0);
  writeSync(fd, code, 0, code.length, 0);
  platform = new PtracePlatform({ memoryFile: { fd } });
  const as = platform.newAddressSpace();
  as.mapFile(0x400000, 4096, 0, 5);
  const ctx = platform.newContext();
  ctx.regs.rip = 0x400000;
  let trap = await ctx.switchTo(as);
  expect(trap.kind).toBe("syscall");
  expect(ctx.regs.syscallNumber).toBe(110);
  ctx.regs.setReturn(1234);
  trap = await ctx.switchTo(as);
  expect(trap.kind).toBe("syscall");
  expect(ctx.regs.syscallNumber).toBe(60);
  expect(ctx.regs.get(UserRegsOffset.rdi)).toBe(42n);
  const t0 = process.hrtime.bigint();
  const n = 2000;
  ctx.regs.rip = 0x400000;
  for (let i = 0; i < n; i++) {
    ctx.regs.rip = 0x400000;
    await ctx.switchTo(as);
  }
  console.log("ns per round trip", Number(process.hrtime.bigint() - t0) / n);
  host.close(fd);
});
