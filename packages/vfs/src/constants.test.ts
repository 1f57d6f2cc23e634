import { constants as hostConstants } from "node:fs";
import { describe, expect, it } from "vitest";
import * as linux from "./constants";

describe("constants", () => {
  it("match the values node:fs reports for this host", () => {
    const names = [
      "O_RDONLY", "O_WRONLY", "O_RDWR", "O_CREAT", "O_EXCL", "O_NOCTTY", "O_TRUNC", "O_APPEND",
      "O_NONBLOCK", "O_DSYNC", "O_DIRECT", "O_DIRECTORY", "O_NOFOLLOW", "O_NOATIME", "O_SYNC",
      "S_IFMT", "S_IFREG", "S_IFDIR", "S_IFCHR", "S_IFBLK", "S_IFIFO", "S_IFLNK", "S_IFSOCK",
      "F_OK", "R_OK", "W_OK", "X_OK",
    ] as const;
    for (const name of names) {
      expect({ name, value: linux[name] }).toEqual({ name, value: hostConstants[name] });
    }
  });

  it("encode device numbers as new_encode_dev", () => {
    expect(linux.makeDev(1, 3)).toBe(0x103);
    expect(linux.makeDev(8, 0x123)).toBe(0x10_08_23);
    expect(linux.makeDev(0, 5)).toBe(5);
  });

  it("convert file types to d_type", () => {
    expect(linux.modeToDirentType(linux.S_IFREG | 0o644)).toBe(linux.DT_REG);
    expect(linux.modeToDirentType(linux.S_IFDIR)).toBe(linux.DT_DIR);
    expect(linux.modeToDirentType(linux.S_IFLNK)).toBe(linux.DT_LNK);
    expect(linux.modeToDirentType(linux.S_IFCHR)).toBe(linux.DT_CHR);
    expect(linux.modeToDirentType(linux.S_IFSOCK)).toBe(linux.DT_SOCK);
  });
});
