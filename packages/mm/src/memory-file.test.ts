import { readSync, readlinkSync, writeSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryFile, MemoryFileError } from "./memory-file";

const PAGE = 4096;

describe("MemoryFile", () => {
  const files: MemoryFile[] = [];
  const create = (name = "mm-test"): MemoryFile => {
    const file = MemoryFile.create(name);
    files.push(file);
    return file;
  };

  afterEach(() => {
    for (const file of files.splice(0)) {
      file.close();
    }
  });

  it("creates an empty memfd", () => {
    const file = create("mm-memfd-name");
    expect(file.fd).toBeGreaterThanOrEqual(0);
    expect(file.size).toBe(0);
    expect(readlinkSync(`/proc/self/fd/${file.fd}`)).toBe("/memfd:mm-memfd-name (deleted)");
  });

  it("grows and never shrinks", () => {
    const file = create();
    file.grow(16 * PAGE);
    expect(file.size).toBe(16 * PAGE);
    file.grow(4 * PAGE);
    expect(file.size).toBe(16 * PAGE);
    expect(file.allocatedBytes()).toBe(0);
  });

  it("reads back what it writes at an offset", () => {
    const file = create();
    file.grow(4 * PAGE);
    file.write(PAGE + 10, Uint8Array.of(1, 2, 3));

    const fromFd = new Uint8Array(3);
    readSync(file.fd, fromFd, 0, 3, PAGE + 10);
    expect([...fromFd]).toEqual([1, 2, 3]);

    const back = new Uint8Array(5);
    file.read(PAGE + 9, back);
    expect([...back]).toEqual([0, 1, 2, 3, 0]);
  });

  it("punches holes that free host memory", () => {
    const file = create();
    file.grow(8 * PAGE);
    writeSync(file.fd, new Uint8Array(8 * PAGE).fill(7), 0, 8 * PAGE, 0);
    expect(file.allocatedBytes()).toBe(8 * PAGE);

    file.punchHole(2 * PAGE, 4 * PAGE);
    expect(file.allocatedBytes()).toBe(4 * PAGE);
    const back = new Uint8Array(1);
    file.read(3 * PAGE, back);
    expect(back[0]).toBe(0);
    file.read(6 * PAGE, back);
    expect(back[0]).toBe(7);
    expect(file.size).toBe(8 * PAGE);
  });

  it("rejects ranges past the end", () => {
    const file = create();
    file.grow(PAGE);
    expect(() => file.write(PAGE - 1, Uint8Array.of(1, 2))).toThrow(RangeError);
    expect(() => file.read(-1, new Uint8Array(1))).toThrow(RangeError);
    expect(() => file.punchHole(0, 2 * PAGE)).toThrow(RangeError);
    expect(() => file.grow(Number.NaN)).toThrow(RangeError);
  });

  it("reports memfd_create errors", () => {
    expect(() => MemoryFile.create("x".repeat(300))).toThrow(MemoryFileError);
    expect(() => MemoryFile.create("x".repeat(300))).toThrow(/memfd_create.*host errno 22/);
  });

  it("fails cleanly after close", () => {
    const file = create();
    file.close();
    file.close();
    expect(() => file.allocatedBytes()).toThrow(/closed/);
  });
});
