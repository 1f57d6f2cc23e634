import { execFileSync } from "node:child_process";
import * as hostFs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Errno, SyscallError } from "@sandbox/abi";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { R_OK, S_IFDIR, S_IFREG, S_ISVTX, W_OK, X_OK } from "./constants";
import { Credentials } from "./Credentials";
import { checkExecute, checkSticky, mayAccess } from "./permission";

/** Permission bits of the files the host comparison makes. */
const MODES = [0o000, 0o400, 0o200, 0o100, 0o040, 0o020, 0o010, 0o004, 0o002, 0o001, 0o754, 0o070, 0o707, 0o007, 0o777];

/** Owners of the files: [uid, gid]. */
const OWNERS = [
  [1000, 1000],
  [0, 50],
];

/** Identities that check access: [uid, gid, supplementary groups]. */
const IDENTITIES: [number, number, number[]][] = [
  [1000, 1000, []],
  [2000, 50, []],
  [2000, 2000, [50, 60]],
  [2000, 2000, []],
  [0, 0, []],
];

const ACCESSES: [string, number][] = [
  ["r", R_OK],
  ["w", W_OK],
  ["x", X_OK],
];

function errnoOf(call: () => unknown): number | undefined {
  try {
    call();
    return undefined;
  } catch (error) {
    if (error instanceof SyscallError) {
      return error.errno;
    }
    throw error;
  }
}

describe("mayAccess against Linux", () => {
  let hostRoot: string;

  beforeEach(() => {
    hostRoot = hostFs.mkdtempSync(join(tmpdir(), "vfs-permission-"));
    hostFs.chmodSync(hostRoot, 0o755);
  });

  afterEach(() => {
    hostFs.rmSync(hostRoot, { recursive: true, force: true });
  });

  it("grants what access(2) grants", () => {
    const files: { path: string; mode: number; uid: number; gid: number }[] = [];
    for (const [uid, gid] of OWNERS) {
      for (const mode of MODES) {
        for (const isDirectory of [false, true]) {
          const path = join(hostRoot, `${isDirectory ? "d" : "f"}-${uid}-${mode.toString(8)}`);
          if (isDirectory) {
            hostFs.mkdirSync(path);
          } else {
            hostFs.writeFileSync(path, "");
          }
          hostFs.chownSync(path, uid, gid);
          hostFs.chmodSync(path, mode);
          files.push({ path, mode: (isDirectory ? S_IFDIR : S_IFREG) | mode, uid, gid });
        }
      }
    }

    // One shell per identity tests every file with test(1), which calls
    // faccessat with the effective IDs.
    const script = 'for f in "$@"; do for a in r w x; do if test -$a "$f"; then echo 1; else echo 0; fi; done; done';
    for (const [uid, gid, groups] of IDENTITIES) {
      const output = execFileSync(
        "setpriv",
        [
          `--reuid=${uid}`,
          `--regid=${gid}`,
          groups.length > 0 ? `--groups=${groups.join(",")}` : "--clear-groups",
          "--",
          "sh",
          "-c",
          script,
          "sh",
          ...files.map((file) => file.path),
        ],
        { encoding: "utf8" },
      ).trim().split("\n");

      const creds = new Credentials(uid, gid, groups);
      let line = 0;
      for (const file of files) {
        for (const [letter, access] of ACCESSES) {
          const expected = output[line++] === "1";
          const name = `uid ${uid} gid ${gid} groups ${groups} ${letter} ${file.path.slice(hostRoot.length)}`;
          expect({ name, granted: mayAccess(creds, file, access) }).toEqual({ name, granted: expected });
        }
      }
    }
  });
});

describe("permission checks", () => {
  const user = new Credentials(1000, 1000);
  const root = Credentials.root();

  it("executes only regular files with an execute bit", () => {
    const script = { mode: S_IFREG | 0o700, uid: 1000, gid: 1000 };
    expect(errnoOf(() => checkExecute(user, script))).toBeUndefined();
    expect(errnoOf(() => checkExecute(user, { ...script, mode: S_IFREG | 0o600 }))).toBe(Errno.EACCES);
    expect(errnoOf(() => checkExecute(user, { ...script, mode: S_IFDIR | 0o700 }))).toBe(Errno.EACCES);
    expect(errnoOf(() => checkExecute(root, { ...script, mode: S_IFREG | 0o600 }))).toBe(Errno.EACCES);
    expect(errnoOf(() => checkExecute(root, { ...script, mode: S_IFREG | 0o001 }))).toBeUndefined();
  });

  it("applies the sticky bit", () => {
    const stickyDirectory = { mode: S_IFDIR | S_ISVTX | 0o777, uid: 0, gid: 0 };
    const othersFile = { mode: S_IFREG | 0o666, uid: 2000, gid: 2000 };
    expect(errnoOf(() => checkSticky(user, stickyDirectory, othersFile))).toBe(Errno.EPERM);
    expect(errnoOf(() => checkSticky(user, stickyDirectory, { ...othersFile, uid: 1000 }))).toBeUndefined();
    expect(errnoOf(() => checkSticky(user, { ...stickyDirectory, uid: 1000 }, othersFile))).toBeUndefined();
    expect(errnoOf(() => checkSticky(root, stickyDirectory, othersFile))).toBeUndefined();
    expect(errnoOf(() => checkSticky(user, { ...stickyDirectory, mode: S_IFDIR | 0o777 }, othersFile))).toBeUndefined();
  });
});
