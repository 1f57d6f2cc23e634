import { execFileSync } from "node:child_process";
import * as hostFs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Errno, SyscallError } from "@sandbox/abi";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { O_RDONLY, O_RDWR, O_WRONLY, SEEK_SET, S_IFCHR, S_IFIFO, S_IFMT, S_IFREG } from "../constants";
import { FileDescription } from "../FileDescription";
import { HostFdFile } from "./HostFdFile";

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

describe("HostFdFile", () => {
  let hostRoot: string;
  const hostFds: number[] = [];

  beforeEach(() => {
    hostRoot = hostFs.mkdtempSync(join(tmpdir(), "vfs-hostfd-"));
  });

  afterEach(() => {
    for (const fd of hostFds.splice(0)) {
      try {
        hostFs.closeSync(fd);
      } catch {
        // Already closed by the test (ownsFd).
      }
    }
    hostFs.rmSync(hostRoot, { recursive: true, force: true });
  });

  function hostOpen(path: string, flags: number): number {
    const fd = hostFs.openSync(path, flags);
    hostFds.push(fd);
    return fd;
  }

  it("writes and reads a host file at the host offset", () => {
    const path = join(hostRoot, "out");
    const fd = hostOpen(path, hostFs.constants.O_CREAT | hostFs.constants.O_RDWR);
    const file = new FileDescription(new HostFdFile(fd), O_RDWR);
    expect(file.write(new TextEncoder().encode("stdout line\n"))).toBe(12);
    expect(hostFs.readFileSync(path, "utf8")).toBe("stdout line\n");

    const stat = file.stat();
    const host = hostFs.fstatSync(fd);
    expect(stat.mode & S_IFMT).toBe(S_IFREG);
    expect(stat.ino).toBe(host.ino);
    expect(stat.size).toBe(12);
    expect(errnoOf(() => file.seek(0, SEEK_SET))).toBe(Errno.ESPIPE);
    expect(errnoOf(() => file.pread(new Uint8Array(1), 0))).toBe(Errno.ESPIPE);
    file.decRef();
    expect(hostFs.fstatSync(fd).size).toBe(12);
  });

  it("reports a character device as the host does", () => {
    const fd = hostOpen("/dev/null", hostFs.constants.O_WRONLY);
    const file = new FileDescription(new HostFdFile(fd), O_WRONLY);
    const stat = file.stat();
    expect(stat.mode & S_IFMT).toBe(S_IFCHR);
    expect(stat.rdev).toBe(hostFs.statSync("/dev/null").rdev);
    expect(file.write(new Uint8Array(10))).toBe(10);
    file.decRef();
  });

  it("reads a pipe and reports EAGAIN when empty", () => {
    const fifo = join(hostRoot, "fifo");
    execFileSync("mkfifo", [fifo]);
    const fd = hostOpen(fifo, hostFs.constants.O_RDWR | hostFs.constants.O_NONBLOCK);
    const reader = new FileDescription(new HostFdFile(fd), O_RDONLY);
    const writer = new FileDescription(new HostFdFile(fd), O_WRONLY);
    const buffer = new Uint8Array(16);

    expect(reader.stat().mode & S_IFMT).toBe(S_IFIFO);
    expect(errnoOf(() => reader.read(buffer))).toBe(Errno.EAGAIN);
    expect(writer.write(new TextEncoder().encode("ping"))).toBe(4);
    expect(reader.read(buffer)).toBe(4);
    expect(new TextDecoder().decode(buffer.subarray(0, 4))).toBe("ping");
    expect(reader.read(new Uint8Array(0))).toBe(0);
    reader.decRef();
    writer.decRef();
  });

  it("closes the host descriptor only when it owns it", () => {
    const path = join(hostRoot, "owned");
    hostFs.writeFileSync(path, "");
    const borrowed = hostOpen(path, hostFs.constants.O_RDONLY);
    new FileDescription(new HostFdFile(borrowed), O_RDONLY).decRef();
    expect(() => hostFs.fstatSync(borrowed)).not.toThrow();

    const owned = hostOpen(path, hostFs.constants.O_RDONLY);
    new FileDescription(new HostFdFile(owned, { ownsFd: true }), O_RDONLY).decRef();
    expect(() => hostFs.fstatSync(owned)).toThrow();
  });

  it("rejects an invalid descriptor number", () => {
    expect(() => new HostFdFile(-1)).toThrow(RangeError);
    expect(() => new HostFdFile(1.5)).toThrow(RangeError);
  });
});
