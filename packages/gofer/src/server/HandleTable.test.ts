import { fstatSync, linkSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Errno } from "@sandbox/abi";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ROOT_HANDLE } from "../protocol/messages";
import { GoferError } from "./GoferError";
import { HandleTable } from "./HandleTable";

function isOpen(fd: number): boolean {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

describe("HandleTable", () => {
  let directory: string;
  let table: HandleTable | undefined;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), "gofer-handles-"));
    writeFileSync(join(directory, "a"), "");
    linkSync(join(directory, "a"), join(directory, "b"));
    writeFileSync(join(directory, "c"), "");
  });

  afterEach(() => {
    table?.closeAll();
    table = undefined;
    rmSync(directory, { recursive: true, force: true });
  });

  function open(name: string): number {
    return openSync(join(directory, name), "r");
  }

  it("shares a handle per host file and counts references", () => {
    const rootFd = openSync(directory, "r");
    table = new HandleTable(rootFd, fstatSync(rootFd, { bigint: true }));
    const firstFd = open("a");
    const first = table.insert(firstFd, fstatSync(firstFd, { bigint: true }));
    const secondFd = open("b");
    const second = table.insert(secondFd, fstatSync(secondFd, { bigint: true }));
    expect(second).toBe(first);
    expect(isOpen(secondFd)).toBe(false);
    expect(first.references).toBe(2);
    expect(first.handle).not.toBe(ROOT_HANDLE);

    const otherFd = open("c");
    const other = table.insert(otherFd, fstatSync(otherFd, { bigint: true }));
    expect(other.handle).not.toBe(first.handle);
    expect(table.size).toBe(3);

    table.release(first.handle);
    expect(isOpen(firstFd)).toBe(true);
    table.release(first.handle);
    expect(isOpen(firstFd)).toBe(false);
    expect(() => table?.get(first.handle)).toThrow(GoferError);
    expect(table.size).toBe(2);
  });

  it("keeps the root and rejects unknown handles", () => {
    const rootFd = openSync(directory, "r");
    table = new HandleTable(rootFd, fstatSync(rootFd, { bigint: true }));
    table.release(ROOT_HANDLE);
    table.release(ROOT_HANDLE);
    expect(table.get(ROOT_HANDLE).fd).toBe(rootFd);
    try {
      table.release(42);
      expect.unreachable();
    } catch (error) {
      expect((error as GoferError).errno).toBe(Errno.EBADF);
    }
    table.closeAll();
    expect(isOpen(rootFd)).toBe(false);
    table = undefined;
  });
});
