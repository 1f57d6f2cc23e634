import { Prot, type Trap } from "@sandbox/platform";
import type { ControlRegion } from "./ControlRegion";
import { Layout } from "./stub/image.generated";

const SIGILL = 4;
const SIGTRAP = 5;
const SIGBUS = 7;
const SIGFPE = 8;
const SIGKILL = 9;
const SIGSEGV = 11;

/** The x86 page fault exception vector, as sigcontext.trapno reports it. */
const X86_TRAP_PF = 14;
/** Page fault error code bits (arch/x86/include/asm/trap_pf.h). */
const X86_PF_WRITE = 1n << 1n;
const X86_PF_INSTR = 1n << 4n;

const SYSCALL_TRAP: Trap = Object.freeze({ kind: "syscall" });
const INTERRUPT_TRAP: Trap = Object.freeze({ kind: "interrupt" });

/**
 * The trap a context returns when its host thread is gone or its slot contains a
 * report that cannot be true: SIGKILL, which the Sentry handles by ending
 * the thread group, as Linux does for a fatal signal.
 */
export const LOST_TRAP: Trap = Object.freeze({ kind: "signal", signo: SIGKILL, code: 0, addr: 0 });

/** Reads a 64-bit address as a number; values past 2^53 lose low bits, which no user address has. */
function address(value: bigint): number {
  return Number(BigInt.asUintN(64, value));
}

/**
 * Turns the trap report in the slot at byte `slot` of `control` into a Trap.
 * The report is written by the stub on a thread the application controls,
 * so each field is checked; anything inconsistent gives LOST_TRAP.
 */
export function decodeTrap(control: ControlRegion, slot: number): Trap {
  const kind = control.load(slot + Layout.SLOT_TRAP_KIND);
  const signo = control.load(slot + Layout.SLOT_SIGNO);
  const code = control.load(slot + Layout.SLOT_CODE);

  switch (kind) {
    case Layout.TRAP_SYSCALL:
      return SYSCALL_TRAP;
    case Layout.TRAP_INTERRUPT:
      return INTERRUPT_TRAP;
    case Layout.TRAP_FAULT: {
      if (signo !== SIGSEGV && signo !== SIGBUS) return LOST_TRAP;
      let access = Prot.Read;
      if (signo === SIGSEGV && control.get64(slot + Layout.SLOT_TRAPNO) === BigInt(X86_TRAP_PF)) {
        const err = control.get64(slot + Layout.SLOT_ERR);
        if (err & X86_PF_INSTR) access = Prot.Exec;
        else if (err & X86_PF_WRITE) access = Prot.Write;
      }
      return { kind: "fault", signo, code, addr: address(control.get64(slot + Layout.SLOT_ADDR)), access };
    }
    case Layout.TRAP_SIGNAL:
      if (signo !== SIGILL && signo !== SIGTRAP && signo !== SIGFPE) return LOST_TRAP;
      return { kind: "signal", signo, code, addr: address(control.get64(slot + Layout.SLOT_ADDR)) };
    default:
      return LOST_TRAP;
  }
}
