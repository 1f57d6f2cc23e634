import { expect, test } from "vitest";
import { compareWithHeaders, probeExpressions } from "../../test/cProbe";
import { formatWaitIdType, formatWaitOptions, formatWaitStatus, WaitIdType, WaitOptions } from "./wait";

test("wait options match headers", () => {
  const { mismatches, missing } = compareWithHeaders(["sys/wait.h"], WaitOptions);
  expect(mismatches).toEqual([]);
  expect(missing).toEqual([]);
});

test("waitid id types match headers", () => {
  // glibc declares P_* as enumerators, not macros.
  const values = probeExpressions(["sys/wait.h", "linux/wait.h"], { P_ALL: "P_ALL", P_PID: "P_PID", P_PGID: "P_PGID", P_PIDFD: "P_PIDFD" });
  for (const [name, value] of Object.entries(WaitIdType)) {
    expect(values.get(name), name).toBe(BigInt(value));
  }
});

test("wait options format like strace", () => {
  expect(formatWaitOptions(WaitOptions.WNOHANG | WaitOptions.__WALL)).toBe("WNOHANG|__WALL");
  expect(formatWaitOptions(WaitOptions.WUNTRACED)).toBe("WSTOPPED");
  expect(formatWaitIdType(WaitIdType.P_PID)).toBe("P_PID");
});

test("wait statuses format like strace", () => {
  expect(formatWaitStatus(0)).toBe("[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]");
  expect(formatWaitStatus(3 << 8)).toBe("[{WIFEXITED(s) && WEXITSTATUS(s) == 3}]");
  expect(formatWaitStatus(9)).toBe("[{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}]");
  expect(formatWaitStatus(11 | 0x80)).toBe("[{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV && WCOREDUMP(s)}]");
  expect(formatWaitStatus((19 << 8) | 0x7f)).toBe("[{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}]");
  expect(formatWaitStatus(0xffff)).toBe("[{WIFCONTINUED(s)}]");
});
