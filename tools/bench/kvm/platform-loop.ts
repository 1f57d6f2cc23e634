// Measures the KVM platform alone, without the Sentry: a guest that calls
// getppid in a loop, each call trapped and answered with 0 from JS.
// Usage: npx vite-node tools/bench/kvm/platform-loop.ts [CALLS]
import { Prot } from "@sandbox/platform";
import { MemoryFile } from "../../../packages/mm/src/memory-file";
import { KvmPlatform } from "../../../packages/platform-kvm/src/kvm-platform";

const calls = Number(process.argv[2] ?? 20000);
const memoryFile = MemoryFile.create("kvm-platform-loop");
const platform = new KvmPlatform({ memoryFile });
try {
  // 1: mov eax, 39; syscall; jmp 1b
  const code = new Uint8Array(4096);
  code.set([0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf7]);
  memoryFile.grow(4096);
  memoryFile.write(0, code);
  const as = platform.newAddressSpace();
  as.mapFile(0x40_0000, 4096, 0, Prot.Read | Prot.Exec);
  const context = platform.newContext();
  context.regs.rip = 0x40_0000;
  await context.switchTo(as);
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) {
    context.regs.setReturn(0);
    const trap = await context.switchTo(as);
    if (trap.kind !== "syscall") throw new Error(`unexpected trap ${JSON.stringify(trap)}`);
  }
  const ns = Number(process.hrtime.bigint() - start) / calls;
  console.log(`kvm platform alone: ${ns.toFixed(0)} ns per trapped getppid (${calls} calls)`);
} finally {
  platform.close();
  memoryFile.close();
}
