import { expect, test } from "vitest";
import { probeExpressions, runC } from "../../test/cProbe";
import { CldCode, Signal } from "../signals";
import { SIGINFO_SIZE, SiginfoOffset, SiginfoView } from "./siginfo";

test("siginfo offsets match signal.h", () => {
  const fields: Record<string, string> = { size: "sizeof(siginfo_t)" };
  for (const name of ["si_signo", "si_errno", "si_code", "si_pid", "si_uid", "si_status", "si_utime", "si_stime", "si_value",
    "si_timerid", "si_overrun", "si_addr", "si_addr_lsb", "si_lower", "si_upper", "si_pkey", "si_band", "si_fd",
    "si_call_addr", "si_syscall", "si_arch"]) {
    fields[name] = `offsetof(siginfo_t, ${name})`;
  }
  const values = probeExpressions(["signal.h"], fields);
  expect(values.get("size")).toBe(BigInt(SIGINFO_SIZE));
  for (const [name, value] of values) {
    if (name !== "size") {
      expect(value, name).toBe(BigInt(SiginfoOffset[name as keyof typeof SiginfoOffset]));
    }
  }
});

test("siginfo view reads a SIGCHLD from the kernel", () => {
  const output = runC(`
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/wait.h>
int main(void) {
  pid_t child = fork();
  if (child == 0) _exit(7);
  siginfo_t info = {0};
  if (waitid(P_PID, child, &info, WEXITED) != 0) return 1;
  printf("%d ", child);
  unsigned char *bytes = (unsigned char *)&info;
  for (int i = 0; i < 128; i++) printf("%02x", bytes[i]);
  return 0;
}
`);
  const [pid, hex] = output.trim().split(" ");
  const info = new SiginfoView(Uint8Array.from(Buffer.from(hex, "hex")));
  expect(info.signo).toBe(Signal.SIGCHLD);
  expect(info.code).toBe(CldCode.CLD_EXITED);
  expect(info.pid).toBe(Number(pid));
  expect(info.status).toBe(7);
});

test("siginfo view writes at an offset", () => {
  const bytes = new Uint8Array(SIGINFO_SIZE + 8).fill(0xee);
  const info = new SiginfoView(bytes, 8);
  info.clear();
  info.signo = Signal.SIGSEGV;
  info.code = 1;
  info.addr = 0xdead_beefn;
  expect(bytes[7]).toBe(0xee);
  expect(new DataView(bytes.buffer).getBigUint64(8 + 16, true)).toBe(0xdead_beefn);
  expect(new SiginfoView(bytes, 8).signo).toBe(Signal.SIGSEGV);
  expect(() => new SiginfoView(new Uint8Array(100))).toThrow(RangeError);
});
