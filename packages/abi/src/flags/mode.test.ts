import { expect, test } from "vitest";
import { compareWithHeaders } from "../../test/cProbe";
import { AccessMode, DirentType, direntTypeOfMode, FileMode, formatAccessMode, formatMode, formatStatMode } from "./mode";

test("mode constants match headers", () => {
  for (const [headers, constants] of [[["sys/stat.h"], FileMode], [["unistd.h"], AccessMode], [["dirent.h"], DirentType]] as const) {
    const { mismatches, missing } = compareWithHeaders(headers, constants);
    expect(mismatches).toEqual([]);
    expect(missing).toEqual([]);
  }
});

test("modes format like strace", () => {
  expect(formatMode(0o644)).toBe("0644");
  expect(formatMode(0)).toBe("000");
  expect(formatMode(0o4755)).toBe("04755");
  expect(formatMode(0o7)).toBe("007");
  expect(formatStatMode(FileMode.S_IFREG | 0o644)).toBe("S_IFREG|0644");
  expect(formatStatMode(FileMode.S_IFDIR | 0o1777)).toBe("S_IFDIR|01777");
  expect(formatStatMode(0o600)).toBe("0600");
  expect(formatAccessMode(AccessMode.R_OK)).toBe("R_OK");
  expect(formatAccessMode(7)).toBe("R_OK|W_OK|X_OK");
  expect(formatAccessMode(0)).toBe("F_OK");
});

test("dirent type follows st_mode", () => {
  expect(direntTypeOfMode(FileMode.S_IFDIR | 0o755)).toBe(DirentType.DT_DIR);
  expect(direntTypeOfMode(FileMode.S_IFLNK)).toBe(DirentType.DT_LNK);
  expect(direntTypeOfMode(FileMode.S_IFSOCK)).toBe(DirentType.DT_SOCK);
});
