import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { probeExpressions, runC } from "../../test/cProbe";
import { DirentType } from "../flags/mode";
import { decodeDirents64, Dirent64Offset, dirent64RecordLength, encodeDirent64 } from "./dirent";

test("dirent64 layout matches glibc's struct dirent", () => {
  // The kernel headers do not export struct linux_dirent64; glibc's struct dirent has its layout on x86-64.
  const expressions: Record<string, string> = {};
  for (const name of Object.keys(Dirent64Offset)) {
    expressions[name] = `offsetof(struct dirent, ${name})`;
  }
  const values = probeExpressions(["dirent.h"], expressions);
  for (const [name, offset] of Object.entries(Dirent64Offset)) {
    expect(values.get(name), name).toBe(BigInt(offset));
  }
});

test("encodeDirent64 reproduces getdents64 records", () => {
  const dir = mkdtempSync(join(tmpdir(), "abi-dirent-"));
  try {
    writeFileSync(join(dir, "a"), "");
    writeFileSync(join(dir, "name-of-nineteen-ch"), "");
    mkdirSync(join(dir, "subdirectory"));
    const output = runC(`
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(void) {
  unsigned char buf[4096];
  memset(buf, 0, sizeof buf);
  int fd = open("${dir}", O_RDONLY | O_DIRECTORY);
  long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
  if (n <= 0) return 1;
  for (long i = 0; i < n; i++) printf("%02x", buf[i]);
  return 0;
}
`);
    const kernelBytes = Uint8Array.from(Buffer.from(output.trim(), "hex"));
    const entries = decodeDirents64(kernelBytes);
    const names = entries.map((entry) => Buffer.from(entry.name).toString()).sort();
    expect(names).toEqual([".", "..", "a", "name-of-nineteen-ch", "subdirectory"]);
    expect(entries.find((entry) => Buffer.from(entry.name).toString() === "subdirectory")?.type).toBe(DirentType.DT_DIR);

    const encoded = new Uint8Array(kernelBytes.byteLength);
    let offset = 0;
    for (const entry of entries) {
      const written = encodeDirent64(encoded, offset, entry.ino, entry.off, entry.type, entry.name);
      expect(written).toBe(entry.reclen);
      offset += written;
    }
    expect(encoded).toEqual(kernelBytes);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("record lengths are 8-byte aligned", () => {
  expect(dirent64RecordLength(1)).toBe(24);
  expect(dirent64RecordLength(4)).toBe(24);
  expect(dirent64RecordLength(5)).toBe(32);
  expect(dirent64RecordLength(0)).toBe(24);
});

test("encodeDirent64 returns 0 when the record does not fit", () => {
  const target = new Uint8Array(30).fill(0xaa);
  expect(encodeDirent64(target, 0, 1n, 1n, DirentType.DT_REG, "abc")).toBe(24);
  expect(encodeDirent64(target, 24, 2n, 2n, DirentType.DT_REG, "d")).toBe(0);
  expect(target.subarray(24)).toEqual(new Uint8Array(6).fill(0xaa));
});

test("encodeDirent64 rejects NUL in names", () => {
  expect(() => encodeDirent64(new Uint8Array(64), 0, 1n, 1n, 0, "a\0b")).toThrow(RangeError);
});

test("decodeDirents64 rejects malformed records", () => {
  expect(() => decodeDirents64(new Uint8Array(24))).toThrow(RangeError);
});
