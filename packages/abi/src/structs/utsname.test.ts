import { expect, test } from "vitest";
import { probeExpressions, runC } from "../../test/cProbe";
import { UtsnameLayout } from "./utsname";

test("utsname size matches linux/utsname.h", () => {
  const values = probeExpressions(["linux/utsname.h"], {
    size: "sizeof(struct new_utsname)",
    machine: "offsetof(struct new_utsname, machine)",
  });
  expect(values.get("size")).toBe(BigInt(UtsnameLayout.size));
  expect(values.get("machine")).toBe(260n);
});

test("utsname decodes the kernel's answer", () => {
  const output = runC(`
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(void) {
  unsigned char buf[390];
  if (syscall(SYS_uname, buf) != 0) return 1;
  for (int i = 0; i < 390; i++) printf("%02x", buf[i]);
  return 0;
}
`);
  const uts = UtsnameLayout.decode(Uint8Array.from(Buffer.from(output.trim(), "hex")));
  expect(uts.sysname).toBe("Linux");
  expect(uts.machine).toBe("x86_64");
});

test("utsname cuts long fields", () => {
  const long = "n".repeat(100);
  const bytes = UtsnameLayout.toBytes({ sysname: "Linux", nodename: long, release: "6.18.0", version: "#1", machine: "x86_64", domainname: "" });
  const decoded = UtsnameLayout.decode(bytes);
  expect(decoded.nodename).toBe("n".repeat(64));
  expect(decoded.release).toBe("6.18.0");
  expect(bytes[65 + 64]).toBe(0);
});
