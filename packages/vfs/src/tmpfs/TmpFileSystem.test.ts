import { Errno, SyscallError } from "@sandbox/abi";
import { describe, expect, it } from "vitest";
import {
  O_NONBLOCK,
  O_RDONLY,
  O_WRONLY,
  RENAME_EXCHANGE,
  RENAME_NOREPLACE,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFMT,
  S_IFREG,
  S_IFSOCK,
} from "../constants";
import type { Inode } from "../FileSystem";
import type { Stat } from "../Stat";
import { TmpFileSystem } from "./TmpFileSystem";

const owner = { uid: 0, gid: 0 };

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

function listNames(directory: Inode, cursor = 0): string[] {
  const names: string[] = [];
  const impl = directory.open(O_RDONLY);
  impl.readdir?.(cursor, (name) => {
    names.push(name);
    return true;
  });
  impl.release();
  return names;
}

function nanos(stat: Stat, field: "mtime" | "ctime"): number {
  return stat[field].sec * 1e9 + stat[field].nsec;
}

describe("TmpFileSystem", () => {
  it("starts with a sticky root numbered 1", () => {
    const fs = new TmpFileSystem({ dev: 42 });
    const stat = fs.root().stat();
    expect(stat.ino).toBe(1);
    expect(stat.dev).toBe(42);
    expect(stat.mode).toBe(S_IFDIR | 0o1777);
    expect(stat.nlink).toBe(2);
    expect(stat.size).toBe(40);
  });

  it("counts directory links", () => {
    const root = new TmpFileSystem({ dev: 1 }).root();
    const a = root.mkdir("a", 0o755, owner);
    root.mkdir("b", 0o755, owner);
    a.mkdir("c", 0o755, owner);
    expect(root.stat().nlink).toBe(4);
    expect(a.stat().nlink).toBe(3);

    root.rename("a", root.lookup("b") as Inode, "a", 0);
    expect(root.stat().nlink).toBe(3);
    expect((root.lookup("b") as Inode).stat().nlink).toBe(3);
    expect(errnoOf(() => root.rmdir("b"))).toBe(Errno.ENOTEMPTY);
  });

  it("counts hard links", () => {
    const root = new TmpFileSystem({ dev: 1 }).root();
    const file = root.create("f", 0o644, owner);
    root.link("g", file);
    expect(file.stat().nlink).toBe(2);
    root.unlink("f");
    expect(file.stat().nlink).toBe(1);
    expect(root.lookup("g")).toBe(file);
    expect(errnoOf(() => root.link("d", root.mkdir("d2", 0o755, owner)))).toBe(Errno.EPERM);
    expect(errnoOf(() => root.link("x", new TmpFileSystem({ dev: 2 }).root().create("y", 0o644, owner)))).toBe(Errno.EXDEV);
  });

  it("updates times on changes", async () => {
    const root = new TmpFileSystem({ dev: 1 }).root();
    const before = root.stat();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const file = root.create("f", 0o644, owner);
    const created = file.stat();
    expect(nanos(root.stat(), "mtime")).toBeGreaterThan(nanos(before, "mtime"));

    await new Promise((resolve) => setTimeout(resolve, 5));
    const impl = file.open(O_RDONLY);
    impl.write(Uint8Array.of(1), 0);
    impl.release();
    expect(nanos(file.stat(), "mtime")).toBeGreaterThan(nanos(created, "mtime"));

    const written = file.stat();
    await new Promise((resolve) => setTimeout(resolve, 5));
    file.setattr({ mode: 0o600 });
    expect(nanos(file.stat(), "ctime")).toBeGreaterThan(nanos(written, "ctime"));
    expect(nanos(file.stat(), "mtime")).toBe(nanos(written, "mtime"));
    expect(file.stat().mode).toBe(S_IFREG | 0o600);
  });

  it("renames with RENAME_NOREPLACE and RENAME_EXCHANGE", () => {
    const root = new TmpFileSystem({ dev: 1 }).root();
    const file = root.create("file", 0o644, owner);
    const dir = root.mkdir("dir", 0o755, owner);
    const other = root.mkdir("other", 0o755, owner);

    expect(errnoOf(() => root.rename("file", root, "dir", RENAME_NOREPLACE))).toBe(Errno.EEXIST);
    root.rename("file", root, "dir", RENAME_EXCHANGE);
    expect(root.lookup("file")).toBe(dir);
    expect(root.lookup("dir")).toBe(file);
    expect(root.stat().nlink).toBe(4);

    root.rename("dir", other, "moved", RENAME_NOREPLACE);
    expect(other.lookup("moved")).toBe(file);
    expect(root.lookup("dir")).toBeUndefined();
    expect(errnoOf(() => root.rename("missing", root, "x", RENAME_EXCHANGE))).toBe(Errno.ENOENT);
    expect(errnoOf(() => root.rename("file", root, "missing", RENAME_EXCHANGE))).toBe(Errno.ENOENT);
  });

  it("exchanges across directories and fixes link counts", () => {
    const root = new TmpFileSystem({ dev: 1 }).root();
    const left = root.mkdir("left", 0o755, owner);
    const right = root.mkdir("right", 0o755, owner);
    const subdir = left.mkdir("x", 0o755, owner);
    const file = right.create("y", 0o644, owner);

    left.rename("x", right, "y", RENAME_EXCHANGE);
    expect(left.lookup("x")).toBe(file);
    expect(right.lookup("y")).toBe(subdir);
    expect(left.stat().nlink).toBe(2);
    expect(right.stat().nlink).toBe(3);
  });

  it("lists entries by cookie, renamed ones last", () => {
    const root = new TmpFileSystem({ dev: 1 }).root();
    for (const name of ["a", "b", "c"]) {
      root.create(name, 0o644, owner);
    }
    root.rename("a", root, "d", 0);
    expect(listNames(root)).toEqual(["b", "c", "d"]);
    expect(listNames(root, 2)).toEqual(["c", "d"]);
    expect(root.stat().size).toBe(5 * 20);
  });

  it("makes special files and refuses directories", () => {
    const root = new TmpFileSystem({ dev: 1 }).root();
    const fifo = root.mknod("fifo", S_IFIFO | 0o644, 0, owner);
    expect(fifo.stat().mode & S_IFMT).toBe(S_IFIFO);
    expect(errnoOf(() => fifo.open(O_WRONLY | O_NONBLOCK))).toBe(Errno.ENXIO);
    const socket = root.mknod("socket", S_IFSOCK | 0o644, 0, owner);
    expect(errnoOf(() => socket.open(O_RDONLY))).toBe(Errno.ENXIO);
    const device = root.mknod("dev", S_IFCHR | 0o600, 0x103, owner);
    expect(device.stat().rdev).toBe(0x103);
    expect(errnoOf(() => root.mknod("dir", S_IFDIR | 0o755, 0, owner))).toBe(Errno.EINVAL);
    expect(errnoOf(() => root.create("fifo", 0o644, owner))).toBe(Errno.EEXIST);
  });

  it("keeps an unlinked file readable through its open file", () => {
    const root = new TmpFileSystem({ dev: 1 }).root();
    const file = root.create("f", 0o644, owner);
    const impl = file.open(O_RDONLY);
    impl.write(Uint8Array.of(1, 2, 3), 0);
    root.unlink("f");
    expect(file.stat().nlink).toBe(0);
    const buffer = new Uint8Array(3);
    expect(impl.read(buffer, 0)).toBe(3);
    expect([...buffer]).toEqual([1, 2, 3]);
    impl.release();
  });

  it("refuses new entries in a removed directory", () => {
    const root = new TmpFileSystem({ dev: 1 }).root();
    const dir = root.mkdir("d", 0o755, owner);
    root.rmdir("d");
    expect(errnoOf(() => dir.create("x", 0o644, owner))).toBe(Errno.ENOENT);
    expect(dir.stat().nlink).toBe(0);
  });
});
