import { Errno, SyscallError } from "@sandbox/abi";
import { describe, expect, it } from "vitest";
import { CLOSE_RANGE_CLOEXEC, FD_CLOEXEC, O_CLOEXEC, O_RDWR } from "./constants";
import { FdTable } from "./FdTable";
import { FileDescription } from "./FileDescription";
import type { FileDescriptionImpl } from "./FileSystem";

/** Creates a description that counts its releases, to check reference counting. */
function countedFile(): { file: FileDescription; releases: () => number } {
  let released = 0;
  const impl: FileDescriptionImpl = {
    seekable: false,
    read: () => 0,
    write: (src) => src.length,
    stat: () => {
      throw new SyscallError(Errno.ENOSYS);
    },
    release: () => {
      released++;
    },
  };
  return { file: new FileDescription(impl, O_RDWR), releases: () => released };
}

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

describe("FdTable", () => {
  it("allocates the lowest free descriptor", () => {
    const table = new FdTable();
    const fds = [0, 1, 2, 3].map(() => table.install(countedFile().file));
    expect(fds).toEqual([0, 1, 2, 3]);

    table.close(1);
    table.close(2);
    expect(table.install(countedFile().file)).toBe(1);
    expect(table.install(countedFile().file)).toBe(2);
    expect(table.install(countedFile().file)).toBe(4);
    expect(table.install(countedFile().file, { minFd: 10 })).toBe(10);
    expect(table.install(countedFile().file)).toBe(5);
    expect(table.fds()).toEqual([0, 1, 2, 3, 4, 5, 10]);
  });

  it("fails with EMFILE at the limit", () => {
    const table = new FdTable(3);
    for (let i = 0; i < 3; i++) {
      table.install(countedFile().file);
    }
    const { file, releases } = countedFile();
    expect(errnoOf(() => table.install(file))).toBe(Errno.EMFILE);
    expect(releases()).toBe(1);
    expect(errnoOf(() => table.dupMin(0, 3, false))).toBe(Errno.EINVAL);
    expect(errnoOf(() => table.dup2(0, 3))).toBe(Errno.EBADF);

    table.setLimit(5);
    expect(table.dup(0)).toBe(3);
  });

  it("closes and releases on the last reference", () => {
    const table = new FdTable();
    const { file, releases } = countedFile();
    const fd = table.install(file);
    const copy = table.dup(fd);
    expect(file.refCount).toBe(2);

    table.close(fd);
    expect(releases()).toBe(0);
    table.close(copy);
    expect(releases()).toBe(1);
    expect(errnoOf(() => table.close(copy))).toBe(Errno.EBADF);
    expect(errnoOf(() => table.get(copy))).toBe(Errno.EBADF);
    expect(errnoOf(() => table.get(-1))).toBe(Errno.EBADF);
  });

  it("follows dup2 and dup3 rules", () => {
    const table = new FdTable();
    const first = countedFile();
    const second = countedFile();
    table.install(first.file);
    table.install(second.file, { closeOnExec: true });

    expect(table.dup2(0, 0)).toBe(0);
    expect(errnoOf(() => table.dup2(7, 7))).toBe(Errno.EBADF);
    expect(errnoOf(() => table.dup3(0, 0, 0))).toBe(Errno.EINVAL);
    expect(errnoOf(() => table.dup3(0, 1, 1))).toBe(Errno.EINVAL);

    expect(table.dup2(0, 1)).toBe(1);
    expect(second.releases()).toBe(1);
    expect(table.get(1)).toBe(first.file);
    expect(table.getFlags(1)).toBe(0);

    expect(table.dup3(0, 5, O_CLOEXEC)).toBe(5);
    expect(table.getFlags(5)).toBe(FD_CLOEXEC);
    expect(first.file.refCount).toBe(3);
  });

  it("sweeps close-on-exec descriptors", () => {
    const table = new FdTable();
    const survivor = countedFile();
    const dropped = countedFile();
    table.install(survivor.file);
    table.install(dropped.file, { closeOnExec: true });
    table.setFlags(0, 0);

    table.closeOnExec();
    expect(table.fds()).toEqual([0]);
    expect(dropped.releases()).toBe(1);
    expect(table.install(countedFile().file)).toBe(1);
  });

  it("copies for fork with shared descriptions", () => {
    const table = new FdTable();
    const { file, releases } = countedFile();
    table.install(file, { closeOnExec: true });
    const child = table.fork();
    expect(file.refCount).toBe(2);
    expect(child.get(0)).toBe(file);
    expect(child.getFlags(0)).toBe(FD_CLOEXEC);

    child.setFlags(0, 0);
    expect(table.getFlags(0)).toBe(FD_CLOEXEC);
    child.closeAll();
    expect(releases()).toBe(0);
    table.closeAll();
    expect(releases()).toBe(1);
    expect(table.fds()).toEqual([]);
  });

  it("implements close_range", () => {
    const table = new FdTable();
    for (let i = 0; i < 6; i++) {
      table.install(countedFile().file);
    }
    table.closeRange(4, 0xffff_ffff, CLOSE_RANGE_CLOEXEC);
    expect(table.getFlags(4)).toBe(FD_CLOEXEC);
    expect(table.getFlags(3)).toBe(0);
    table.closeRange(1, 2, 0);
    expect(table.fds()).toEqual([0, 3, 4, 5]);
    expect(errnoOf(() => table.closeRange(3, 2, 0))).toBe(Errno.EINVAL);
    expect(errnoOf(() => table.closeRange(0, 1, 0x80))).toBe(Errno.EINVAL);
  });

  it("picks the start of *at paths", () => {
    const table = new FdTable();
    const { file } = countedFile();
    const fd = table.install(file);
    expect(table.startDirectory(-100, "relative")).toBeUndefined();
    expect(table.startDirectory(99, "/absolute")).toBeUndefined();
    expect(table.startDirectory(fd, "relative")).toBe(file);
    expect(table.startDirectory(fd, "")).toBe(file);
    expect(errnoOf(() => table.startDirectory(99, "relative"))).toBe(Errno.EBADF);
  });

  it("rejects an invalid limit", () => {
    expect(() => new FdTable(-1)).toThrow(RangeError);
    expect(() => new FdTable(2 ** 21)).toThrow(RangeError);
  });
});
