import { Prot, type Trap } from "@sandbox/platform";

const SIGILL = 4;
const SIGTRAP = 5;
const SIGBUS = 7;
const SIGFPE = 8;
const SIGSEGV = 11;
const SEGV_MAPERR = 1;
const SEGV_ACCERR = 2;
const ILL_ILLOPN = 2;
const FPE_INTDIV = 1;
const FPE_FLTINV = 7;
const TRAP_TRACE = 2;
const BUS_ADRALN = 1;
const SI_KERNEL = 0x80;

/** x86 exception vectors (Intel SDM vol. 3, table 6-1). */
export const enum Vector {
  DE = 0,
  DB = 1,
  BP = 3,
  OF = 4,
  BR = 5,
  UD = 6,
  NM = 7,
  TS = 10,
  NP = 11,
  SS = 12,
  GP = 13,
  PF = 14,
  MF = 16,
  AC = 17,
  XM = 19,
}

/** #PF error-code bits. */
const enum PageFaultError {
  Present = 1,
  Write = 2,
  Fetch = 16,
}

/**
 * Turns an exception the application raised in user mode into the trap the
 * Sentry sees, with the signal, si_code and address Linux would give it.
 * `rip` is where the guest stopped (after the instruction for int3 and into).
 */
export function classifyException(vector: number, errorCode: number, cr2: number, rip: number): Trap {
  switch (vector) {
    case Vector.PF: {
      const access = errorCode & PageFaultError.Fetch ? Prot.Exec : errorCode & PageFaultError.Write ? Prot.Write : Prot.Read;
      const code = errorCode & PageFaultError.Present ? SEGV_ACCERR : SEGV_MAPERR;
      return { kind: "fault", signo: SIGSEGV, code, addr: cr2, access };
    }
    case Vector.UD:
      return { kind: "signal", signo: SIGILL, code: ILL_ILLOPN, addr: rip };
    case Vector.BP:
      return { kind: "signal", signo: SIGTRAP, code: SI_KERNEL, addr: 0 };
    case Vector.DB:
      return { kind: "signal", signo: SIGTRAP, code: TRAP_TRACE, addr: rip };
    case Vector.DE:
      return { kind: "signal", signo: SIGFPE, code: FPE_INTDIV, addr: rip };
    case Vector.MF:
    case Vector.XM:
      return { kind: "signal", signo: SIGFPE, code: FPE_FLTINV, addr: rip };
    case Vector.AC:
      return { kind: "signal", signo: SIGBUS, code: BUS_ADRALN, addr: 0 };
    case Vector.SS:
      return { kind: "signal", signo: SIGBUS, code: SI_KERNEL, addr: 0 };
    default:
      // #GP (privileged instructions, hlt, bad segment loads), #OF, #BR, #NP, #TS: Linux sends SIGSEGV with SI_KERNEL.
      return { kind: "signal", signo: SIGSEGV, code: SI_KERNEL, addr: 0 };
  }
}
