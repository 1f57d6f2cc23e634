import { expect, test } from "vitest";
import { compareWithHeaders, probeExpressions, runC } from "../../test/cProbe";
import { FileMode } from "../flags/mode";
import { decodeStatx, encodeStatx, STATX_SIZE, StatxMask, StatxOffset } from "./statx";

// Fields newer than Debian 12's linux-libc-dev 6.1 headers.
const NEWER_FIELDS = new Set([
  "stx_subvol", "stx_atomic_write_unit_min", "stx_atomic_write_unit_max", "stx_atomic_write_segments_max",
  "stx_dio_read_offset_align", "stx_atomic_write_unit_max_opt",
]);

test("statx layout matches linux/stat.h", () => {
  const expressions: Record<string, string> = { size: "sizeof(struct statx)" };
  for (const name of Object.keys(StatxOffset).filter((name) => !NEWER_FIELDS.has(name))) {
    expressions[name] = `offsetof(struct statx, ${name})`;
  }
  const values = probeExpressions(["linux/stat.h"], expressions);
  expect(values.get("size")).toBe(BigInt(STATX_SIZE));
  for (const [name, value] of values) {
    if (name !== "size") {
      expect(value, name).toBe(BigInt(StatxOffset[name as keyof typeof StatxOffset]));
    }
  }
});

test("statx mask bits match headers", () => {
  const { mismatches, missing } = compareWithHeaders(["linux/stat.h"], StatxMask);
  expect(mismatches).toEqual([]);
  expect(["STATX_MNT_ID_UNIQUE", "STATX_SUBVOL", "STATX_WRITE_ATOMIC", "STATX_DIO_READ_ALIGN"]).toEqual(expect.arrayContaining(missing));
});

test("decodeStatx reads what the kernel wrote", () => {
  const output = runC(`
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(void) {
  unsigned char buf[256] = {0};
  if (syscall(SYS_statx, AT_FDCWD, "/", 0, 0x7ff, buf) != 0) return 1;
  for (int i = 0; i < 256; i++) printf("%02x", buf[i]);
  return 0;
}
`);
  const bytes = Uint8Array.from(Buffer.from(output.trim(), "hex"));
  const statx = decodeStatx(bytes);
  expect(statx.mode & FileMode.S_IFMT).toBe(FileMode.S_IFDIR);
  expect(statx.ino).toBe(2n);
  expect(statx.mask & StatxMask.STATX_BASIC_STATS).toBe(StatxMask.STATX_BASIC_STATS);

  const encoded = new Uint8Array(STATX_SIZE);
  encodeStatx(encoded, 0, statx);
  expect(decodeStatx(encoded)).toEqual(statx);
});
