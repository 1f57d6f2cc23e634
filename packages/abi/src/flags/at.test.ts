import { expect, test } from "vitest";
import { compareWithHeaders } from "../../test/cProbe";
import { AtFlags, formatAtFlags, formatDirfd, formatFaccessatFlags, formatStatxFlags } from "./at";

test("at flags match headers", () => {
  const { mismatches, missing } = compareWithHeaders(["fcntl.h", "sys/stat.h"], AtFlags);
  expect(mismatches).toEqual([]);
  expect(missing).toEqual([]);
});

test("at flags format like strace", () => {
  expect(formatAtFlags(AtFlags.AT_EMPTY_PATH)).toBe("AT_EMPTY_PATH");
  expect(formatAtFlags(0x200)).toBe("AT_REMOVEDIR");
  expect(formatFaccessatFlags(0x200 | AtFlags.AT_SYMLINK_NOFOLLOW)).toBe("AT_SYMLINK_NOFOLLOW|AT_EACCESS");
  expect(formatStatxFlags(AtFlags.AT_STATX_DONT_SYNC | AtFlags.AT_EMPTY_PATH)).toBe("AT_EMPTY_PATH|AT_STATX_DONT_SYNC");
  expect(formatStatxFlags(0)).toBe("AT_STATX_SYNC_AS_STAT");
  expect(formatAtFlags(0)).toBe("0");
});

test("dirfd prints AT_FDCWD", () => {
  expect(formatDirfd(-100)).toBe("AT_FDCWD");
  expect(formatDirfd(0xffff_ff9cn)).toBe("AT_FDCWD");
  expect(formatDirfd(3)).toBe("3");
});
