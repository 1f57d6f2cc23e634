import { writeSync } from "node:fs";
import { UserRegsOffset } from "@sandbox/abi";
import { type AddressSpace, PlatformUnavailableError, Prot, type Trap } from "@sandbox/platform";
import { closeFd, memfdCreate } from "./host.native";
import type { SystrapAddressSpace } from "./SystrapAddressSpace";
import type { SystrapContext } from "./SystrapContext";
import { SystrapPlatform } from "./SystrapPlatform";

const CODE_ADDR = 0x400000;
const DATA_ADDR = 0x500000;
const PAGE_SIZE = 4096;
const MARK = 0x1122334455667788n;
const SIGILL = 4;
const SYS_getpid = 39;

/** How long the probe waits for each trap. */
const PROBE_TIMEOUT_MS = 5000;

/** mov rbx, fs:[0]; mov eax, 39; syscall; ud2 */
const PROBE_CODE = [0x64, 0x48, 0x8b, 0x1c, 0x25, 0, 0, 0, 0, 0xb8, 0x27, 0, 0, 0, 0x0f, 0x05, 0x0f, 0x0b];

/** Switches `context` into `as` and waits for the trap without the event loop. */
function runSync(context: SystrapContext, as: AddressSpace): Trap {
  // The promise settles with the same trap that waitSync returns.
  context.switchTo(as).catch(() => {});
  const trap = context.waitSync(PROBE_TIMEOUT_MS);
  if (!trap) throw new Error(`the probe thread did not trap within ${PROBE_TIMEOUT_MS} ms`);
  return trap;
}

/**
 * Runs the start-up probe of the systrap platform. On a private memfd it
 * starts a stub and maps a code page and a data page. One thread then reads
 * through its FS base (set by the Sentry, loaded with wrfsbase), makes a
 * system call and executes ud2. It checks that the call traps with the
 * right number, registers and FS base, that the result written by the
 * Sentry reaches the thread, and that ud2 comes back as SIGILL at the right
 * address. Throws PlatformUnavailableError with the reason otherwise (no
 * seccomp, no FSGSBASE, no /proc, ...). Returns whether mseal sealed the
 * stub's pages. Synchronous: it takes a few milliseconds.
 */
export function probeSystrap(): { sealed: boolean } {
  let memoryFd = -1;
  let platform: SystrapPlatform | null = null;
  try {
    memoryFd = memfdCreate("systrap-probe");
    const code = Buffer.alloc(PAGE_SIZE);
    code.set(PROBE_CODE);
    const data = Buffer.alloc(PAGE_SIZE);
    data.writeBigUInt64LE(MARK);
    writeSync(memoryFd, code, 0, PAGE_SIZE, 0);
    writeSync(memoryFd, data, 0, PAGE_SIZE, PAGE_SIZE);

    platform = new SystrapPlatform({ memoryFile: { fd: memoryFd }, spareStub: false });
    const as = platform.newAddressSpace();
    as.mapFile(CODE_ADDR, PAGE_SIZE, 0, Prot.Read | Prot.Exec);
    as.mapFile(DATA_ADDR, PAGE_SIZE, PAGE_SIZE, Prot.Read);
    const context = platform.newContext() as SystrapContext;
    context.regs.rip = CODE_ADDR;
    context.regs.fsBase = BigInt(DATA_ADDR);

    let trap = runSync(context, as);
    const regs = context.regs;
    if (trap.kind !== "syscall") throw new Error(`a system call came back as ${JSON.stringify(trap)}`);
    if (regs.syscallNumber !== SYS_getpid) throw new Error(`the system call number came back as ${regs.syscallNumber}`);
    if (regs.rip !== CODE_ADDR + 16) throw new Error(`rip came back as 0x${regs.rip.toString(16)}`);
    if (regs.get(UserRegsOffset.rbx) !== MARK) throw new Error("a load through the FS base read the wrong value");
    if (regs.fsBase !== BigInt(DATA_ADDR)) throw new Error("the FS base did not survive the trap");

    regs.setReturn(7);
    trap = runSync(context, as);
    if (trap.kind !== "signal" || trap.signo !== SIGILL) throw new Error(`ud2 came back as ${JSON.stringify(trap)}`);
    if (regs.rip !== CODE_ADDR + 16 || regs.get(UserRegsOffset.rax) !== 7n) {
      throw new Error("the state written by the Sentry did not reach the thread");
    }
    return { sealed: (as as SystrapAddressSpace).process.sealed };
  } catch (err) {
    throw new PlatformUnavailableError("systrap", (err as Error).message);
  } finally {
    platform?.close();
    if (memoryFd >= 0) closeFd(memoryFd);
  }
}
