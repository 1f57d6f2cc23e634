import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { probeExpressions, runC } from "../../test/cProbe";
import { FileMode } from "../flags/mode";
import { decodeStat, devMajor, devMinor, encodeStat, makeDev, STAT_SIZE, StatFields, StatOffset } from "./stat";

test("stat layout matches asm/stat.h", () => {
  const expressions: Record<string, string> = { size: "sizeof(struct stat)" };
  for (const name of Object.keys(StatOffset)) {
    expressions[name] = `offsetof(struct stat, ${name})`;
  }
  const values = probeExpressions(["asm/stat.h"], expressions);
  expect(values.get("size")).toBe(BigInt(STAT_SIZE));
  for (const [name, offset] of Object.entries(StatOffset)) {
    expect(values.get(name), name).toBe(BigInt(offset));
  }
});

test("decodeStat reads what the kernel wrote", () => {
  const dir = mkdtempSync(join(tmpdir(), "abi-stat-"));
  try {
    const path = join(dir, "file");
    writeFileSync(path, "x".repeat(1234), { mode: 0o640 });
    const output = runC(`
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(void) {
  unsigned char buf[144];
  int fd = open("${path}", O_RDONLY);
  if (fd < 0 || syscall(SYS_fstat, fd, buf) != 0) return 1;
  for (int i = 0; i < 144; i++) printf("%02x", buf[i]);
  return 0;
}
`);
    const bytes = Uint8Array.from(Buffer.from(output.trim(), "hex"));
    const stat = decodeStat(bytes);
    expect(stat.size).toBe(1234n);
    expect(stat.mode).toBe(FileMode.S_IFREG | 0o640);
    expect(stat.nlink).toBe(1n);
    expect(stat.uid).toBe(process.getuid!());

    // Encoding the decoded fields reproduces the kernel's bytes, padding included.
    const encoded = new Uint8Array(STAT_SIZE);
    expect(encodeStat(encoded, 0, stat)).toBe(STAT_SIZE);
    expect(encoded).toEqual(bytes);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const SAMPLE: StatFields = {
  dev: 0x803n, ino: 42n, nlink: 2n, mode: FileMode.S_IFDIR | 0o755, uid: 1000, gid: 1000, rdev: 0n, size: 4096n,
  blksize: 4096n, blocks: 8n, atimeSec: 1_700_000_000n, atimeNsec: 5n, mtimeSec: -1n, mtimeNsec: 0n,
  ctimeSec: 1n, ctimeNsec: 999_999_999n,
};

test("encodeStat writes at an offset in a DataView", () => {
  const buffer = new ArrayBuffer(STAT_SIZE + 16);
  new Uint8Array(buffer).fill(0xff);
  const view = new DataView(buffer);
  expect(encodeStat(view, 8, SAMPLE)).toBe(STAT_SIZE);
  expect(decodeStat(view, 8)).toEqual(SAMPLE);
  expect(view.getUint32(8 + 36, true)).toBe(0);
  expect(view.getUint8(7)).toBe(0xff);
  expect(view.getUint8(8 + STAT_SIZE)).toBe(0xff);
});

test("encodeStat rejects a short target", () => {
  expect(() => encodeStat(new Uint8Array(100), 0, SAMPLE)).toThrow(RangeError);
  expect(() => encodeStat(new Uint8Array(200), 100, SAMPLE)).toThrow(RangeError);
  expect(() => decodeStat(new Uint8Array(10))).toThrow(RangeError);
});

test("device numbers match glibc makedev", () => {
  const values = probeExpressions(["sys/sysmacros.h"], {
    small: "makedev(8, 3)",
    large: "makedev(0x12345, 0x6789a)",
  });
  expect(makeDev(8, 3)).toBe(values.get("small"));
  expect(makeDev(0x12345, 0x6789a)).toBe(values.get("large"));
  expect(devMajor(makeDev(0x12345, 0x6789a))).toBe(0x12345);
  expect(devMinor(makeDev(0x12345, 0x6789a))).toBe(0x6789a);
});
