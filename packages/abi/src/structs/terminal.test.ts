import { expect, test } from "vitest";
import { probeExpressions } from "../../test/cProbe";
import { KERNEL_NCCS, TermiosLayout, WinsizeLayout } from "./terminal";

test("kernel termios matches asm/termbits.h", () => {
  const values = probeExpressions(["asm/termbits.h"], {
    size: "sizeof(struct termios)",
    c_line: "offsetof(struct termios, c_line)",
    c_cc: "offsetof(struct termios, c_cc)",
    nccs: "NCCS",
  });
  expect(values.get("size")).toBe(BigInt(TermiosLayout.size));
  expect(values.get("c_line")).toBe(16n);
  expect(values.get("c_cc")).toBe(17n);
  expect(values.get("nccs")).toBe(BigInt(KERNEL_NCCS));
});

test("winsize matches sys/ioctl.h", () => {
  const values = probeExpressions(["sys/ioctl.h"], { size: "sizeof(struct winsize)", ws_col: "offsetof(struct winsize, ws_col)" });
  expect(values.get("size")).toBe(BigInt(WinsizeLayout.size));
  expect(values.get("ws_col")).toBe(2n);
});

test("termios round-trips", () => {
  const value = { c_iflag: 0x500, c_oflag: 0x5, c_cflag: 0xbf, c_lflag: 0x8a3b, c_line: 0, c_cc: Array.from({ length: 19 }, (_, i) => i) };
  expect(TermiosLayout.decode(TermiosLayout.toBytes(value))).toEqual(value);
});
