import { expect, test } from "vitest";
import { compareWithHeaders, probeMacros } from "../test/cProbe";
import {
  BusCode, CldCode, NSIG, formatSaFlags, FpeCode, IllCode, isValidSignal, PollCode, SaFlags, SegvCode, SiCode, SigaltstackFlags,
  Signal, SignalDefaultAction, signalDefaultAction, signalName, sigmask, sigprocmask, SigprocmaskHow, SIGSET_EMPTY,
  SIGSET_FULL, SIGSET_UNBLOCKABLE, sigsetAdd, sigsetDelete, sigsetFirst, sigsetHas, sigsetSignals, SysCode, TrapCode,
} from "./signals";

// The kernel's own headers: glibc reports SIGRTMIN as 34 and sizes signal stacks at run time.
const KERNEL_SIGNAL_HEADERS = ["linux/signal.h"];

test("signal numbers match kernel headers", () => {
  // The kernel defines SIGRTMAX as _NSIG, which its headers hide from user space.
  const { SIGRTMAX, ...numbered } = Signal;
  const { mismatches, missing } = compareWithHeaders(KERNEL_SIGNAL_HEADERS, numbered);
  expect(mismatches).toEqual([]);
  expect(missing).toEqual([]);

  // glibc's _NSIG counts signal 0 as well.
  const glibcNsig = probeMacros(["signal.h"], ["_NSIG"]).get("_NSIG");
  expect(BigInt(NSIG)).toBe(glibcNsig! - 1n);
  expect(SIGRTMAX).toBe(NSIG);
});

test("si_code values match kernel headers", () => {
  for (const constants of [SiCode, IllCode, FpeCode, SegvCode, BusCode, TrapCode, CldCode, PollCode, SysCode]) {
    const { mismatches, missing } = compareWithHeaders(KERNEL_SIGNAL_HEADERS, constants);
    expect(mismatches).toEqual([]);
    // Linux 6.1 headers predate SEGV_CPERR.
    expect(["SEGV_CPERR"]).toEqual(expect.arrayContaining(missing));
  }
});

test("sigaction constants match kernel headers", () => {
  for (const constants of [SaFlags, SigprocmaskHow, SigaltstackFlags]) {
    const { mismatches, missing } = compareWithHeaders(KERNEL_SIGNAL_HEADERS, constants);
    expect(mismatches).toEqual([]);
    expect(missing).toEqual([]);
  }
});

test("signal names follow strace", () => {
  expect(signalName(9)).toBe("SIGKILL");
  expect(signalName(6)).toBe("SIGABRT");
  expect(signalName(29)).toBe("SIGIO");
  expect(signalName(32)).toBe("SIGRTMIN");
  expect(signalName(34)).toBe("SIGRT_2");
  expect(signalName(64)).toBe("SIGRT_32");
  expect(signalName(0)).toBeUndefined();
  expect(signalName(65)).toBeUndefined();
  expect(isValidSignal(64)).toBe(true);
  expect(isValidSignal(1.5)).toBe(false);
});

test("default actions follow signal(7)", () => {
  expect(signalDefaultAction(Signal.SIGSEGV)).toBe(SignalDefaultAction.Core);
  expect(signalDefaultAction(Signal.SIGKILL)).toBe(SignalDefaultAction.Terminate);
  expect(signalDefaultAction(Signal.SIGCHLD)).toBe(SignalDefaultAction.Ignore);
  expect(signalDefaultAction(Signal.SIGWINCH)).toBe(SignalDefaultAction.Ignore);
  expect(signalDefaultAction(Signal.SIGTSTP)).toBe(SignalDefaultAction.Stop);
  expect(signalDefaultAction(Signal.SIGCONT)).toBe(SignalDefaultAction.Continue);
  expect(signalDefaultAction(40)).toBe(SignalDefaultAction.Terminate);
  expect(() => signalDefaultAction(0)).toThrow(RangeError);
});

test("sigset helpers work on 64 bits", () => {
  let set = SIGSET_EMPTY;
  set = sigsetAdd(set, Signal.SIGINT);
  set = sigsetAdd(set, 64);
  expect(set).toBe((1n << 1n) | (1n << 63n));
  expect(sigsetHas(set, 64)).toBe(true);
  expect(sigsetHas(set, 3)).toBe(false);
  expect(sigsetSignals(set)).toEqual([2, 64]);
  expect(sigsetFirst(set)).toBe(2);
  expect(sigsetFirst(SIGSET_EMPTY)).toBe(0);
  expect(sigsetSignals(sigsetDelete(set, 2))).toEqual([64]);
  expect(sigmask(1)).toBe(1n);
  expect(sigsetSignals(SIGSET_FULL)).toHaveLength(64);
  expect(() => sigmask(65)).toThrow(RangeError);
});

test("sigprocmask keeps SIGKILL and SIGSTOP unblocked", () => {
  expect(sigprocmask(0n, SigprocmaskHow.SIG_BLOCK, SIGSET_FULL)).toBe(SIGSET_FULL & ~SIGSET_UNBLOCKABLE);
  expect(sigprocmask(0b110n, SigprocmaskHow.SIG_UNBLOCK, 0b10n)).toBe(0b100n);
  expect(sigprocmask(0b110n, SigprocmaskHow.SIG_SETMASK, 0b1n)).toBe(0b1n);
  expect(sigprocmask(0n, 3, 0n)).toBeUndefined();
});

test("sa_flags format like strace", () => {
  expect(formatSaFlags(SaFlags.SA_RESTORER | SaFlags.SA_RESTART)).toBe("SA_RESTORER|SA_RESTART");
  expect(formatSaFlags(SaFlags.SA_RESETHAND)).toBe("SA_RESETHAND");
  expect(formatSaFlags(0)).toBe("0");
});
