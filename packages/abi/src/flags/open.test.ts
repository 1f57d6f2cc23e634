import { expect, test } from "vitest";
import { compareWithHeaders } from "../../test/cProbe";
import { formatOpenFlagBits, formatOpenFlags, O_VALID_FLAGS, OpenFlags } from "./open";

test("open flags match kernel headers", () => {
  // asm/fcntl.h has the kernel's values; glibc defines O_LARGEFILE as 0 on x86-64.
  const { mismatches, missing } = compareWithHeaders(["asm/fcntl.h"], OpenFlags);
  expect(mismatches).toEqual([]);
  expect(["O_NDELAY", "O_ASYNC", "O_RSYNC"]).toEqual(expect.arrayContaining(missing));
});

test("open flags format like strace", () => {
  expect(formatOpenFlags(OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC)).toBe("O_RDONLY|O_CLOEXEC");
  expect(formatOpenFlags(OpenFlags.O_WRONLY | OpenFlags.O_CREAT | OpenFlags.O_TRUNC)).toBe("O_WRONLY|O_CREAT|O_TRUNC");
  expect(formatOpenFlags(OpenFlags.O_RDONLY | OpenFlags.O_NONBLOCK | OpenFlags.O_CLOEXEC | OpenFlags.O_DIRECTORY))
    .toBe("O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY");
  expect(formatOpenFlags(OpenFlags.O_RDWR | OpenFlags.O_DSYNC | OpenFlags.O_TMPFILE)).toBe("O_RDWR|O_DSYNC|O_TMPFILE");
  expect(formatOpenFlags(OpenFlags.O_WRONLY | OpenFlags.O_SYNC)).toBe("O_WRONLY|O_SYNC");
  expect(formatOpenFlags(3)).toBe("O_ACCMODE");
  expect(formatOpenFlags(0x4000_0000)).toBe("O_RDONLY|0x40000000");
});

test("valid open flags cover every flag", () => {
  for (const [name, value] of Object.entries(OpenFlags)) {
    expect(value & ~O_VALID_FLAGS & ~OpenFlags.O_ACCMODE, name).toBe(0);
  }
});

test("open flag bits format without access mode", () => {
  expect(formatOpenFlagBits(OpenFlags.O_CLOEXEC)).toBe("O_CLOEXEC");
  expect(formatOpenFlagBits(OpenFlags.O_CLOEXEC | OpenFlags.O_NONBLOCK)).toBe("O_NONBLOCK|O_CLOEXEC");
  expect(formatOpenFlagBits(0)).toBe("0");
});
