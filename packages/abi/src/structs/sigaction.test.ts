import { expect, test } from "vitest";
import { probeExpressions, runC } from "../../test/cProbe";
import { SaFlags } from "../signals";
import { KernelSigactionLayout, SIGSET_SIZE, StackTLayout } from "./sigaction";

test("stack_t matches signal.h", () => {
  const values = probeExpressions(["signal.h"], {
    size: "sizeof(stack_t)",
    ss_flags: "offsetof(stack_t, ss_flags)",
    ss_size: "offsetof(stack_t, ss_size)",
  });
  expect(values.get("size")).toBe(BigInt(StackTLayout.size));
  expect(values.get("ss_flags")).toBe(8n);
  expect(values.get("ss_size")).toBe(16n);
});

test("kernel sigaction decodes what rt_sigaction returns", () => {
  const output = runC(`
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
static void handler(int signal) { (void)signal; }
int main(void) {
  struct sigaction action = {0};
  action.sa_handler = handler;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  sigaddset(&action.sa_mask, SIGINT);
  sigaction(SIGUSR1, &action, NULL);
  unsigned char old[32];
  if (syscall(SYS_rt_sigaction, SIGUSR1, NULL, old, 8) != 0) return 1;
  printf("%lx ", (unsigned long)handler);
  for (int i = 0; i < 32; i++) printf("%02x", old[i]);
  return 0;
}
`);
  const [handler, hex] = output.trim().split(" ");
  const action = KernelSigactionLayout.decode(Uint8Array.from(Buffer.from(hex, "hex")));
  expect(KernelSigactionLayout.size).toBe(32);
  expect(action.handler).toBe(BigInt(`0x${handler}`));
  expect(action.flags & BigInt(SaFlags.SA_RESTART)).toBe(BigInt(SaFlags.SA_RESTART));
  expect(action.flags & BigInt(SaFlags.SA_RESTORER)).toBe(BigInt(SaFlags.SA_RESTORER));
  expect(action.restorer).not.toBe(0n);
  expect(action.mask).toBe(1n << 1n);
  expect(SIGSET_SIZE).toBe(8);
});
