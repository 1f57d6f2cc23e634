import { execFileSync, spawn } from "node:child_process";
import * as hostFs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Errno, PollEvents, SyscallError } from "@sandbox/abi";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY, SEEK_END, SEEK_SET, S_IFCHR, S_IFIFO, S_IFMT, S_IFREG } from "../constants";
import { FileDescription } from "../FileDescription";
import { HostFdFile } from "./HostFdFile";
import { getStatusFlags, pipe2 } from "./hostFd.native";
import { HostPoller } from "./HostPoller";

const { POLLIN, POLLOUT, POLLHUP, POLLERR } = PollEvents;

/** Resolves when `file` wakes a waiter for `mask`. */
function nextWake(file: FileDescription, mask: number): Promise<void> {
  return new Promise((resolve) => {
    file.watch(mask, resolve);
  });
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

  /** Creates a blocking host pipe whose ends the test closes afterwards. */
  function hostPipe(): [number, number] {
    const fds = pipe2(0);
    if (typeof fds === "number") {
      throw new Error(`pipe2 failed with errno ${-fds}`);
    }
    hostFds.push(...fds);
    return fds;
  }

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
    // lseek moves the host offset of a regular file; pread stays refused.
    expect(file.seek(0, SEEK_SET)).toBe(0);
    const back = new Uint8Array(64);
    expect(new TextDecoder().decode(back.subarray(0, file.read(back)))).toBe("stdout line\n");
    expect(file.seek(-5, SEEK_END)).toBe(7);
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

  it("never blocks on an empty host pipe", () => {
    const [readFd, writeFd] = hostPipe();
    const reader = new FileDescription(new HostFdFile(readFd), O_RDONLY);
    expect(getStatusFlags(readFd) & O_NONBLOCK).toBe(O_NONBLOCK);
    expect(errnoOf(() => reader.read(new Uint8Array(8)))).toBe(Errno.EAGAIN);
    expect(reader.readiness(POLLIN)).toBe(0);

    hostFs.writeSync(writeFd, "data");
    expect(reader.readiness(POLLIN | POLLOUT)).toBe(POLLIN);
    const buffer = new Uint8Array(8);
    expect(reader.read(buffer)).toBe(4);

    hostFs.closeSync(writeFd);
    hostFds.splice(hostFds.indexOf(writeFd), 1);
    expect(reader.readiness(POLLIN)).toBe(POLLHUP);
    expect(reader.read(buffer)).toBe(0);
    reader.decRef();
    expect(getStatusFlags(readFd) & O_NONBLOCK).toBe(0);
  });

  it("keeps O_NONBLOCK until the last user releases", () => {
    const [readFd] = hostPipe();
    const first = new HostFdFile(readFd);
    const second = new HostFdFile(readFd);
    first.release();
    first.release();
    expect(getStatusFlags(readFd) & O_NONBLOCK).toBe(O_NONBLOCK);
    second.release();
    expect(getStatusFlags(readFd) & O_NONBLOCK).toBe(0);
  });

  it("wakes a reader when a child process writes", async () => {
    const [readFd, writeFd] = hostPipe();
    const reader = new FileDescription(new HostFdFile(readFd), O_RDONLY);
    const woken = nextWake(reader, POLLIN);
    expect(reader.readiness(POLLIN)).toBe(0);

    const child = spawn("sh", ["-c", "printf 'from child'"], { stdio: ["ignore", writeFd, "inherit"] });
    const exited = new Promise((resolve) => child.on("exit", resolve));
    await woken;
    expect(reader.readiness(POLLIN) & POLLIN).toBe(POLLIN);
    await exited;
    const buffer = new Uint8Array(32);
    const count = reader.read(buffer);
    expect(new TextDecoder().decode(buffer.subarray(0, count))).toBe("from child");
    reader.decRef();
  });

  it("waits for room in a full host pipe", async () => {
    const [readFd, writeFd] = hostPipe();
    const writer = new FileDescription(new HostFdFile(writeFd), O_WRONLY);
    const chunk = new Uint8Array(4096);
    let written = 0;
    for (;;) {
      const error = errnoOf(() => {
        written += writer.write(chunk);
      });
      if (error !== undefined) {
        expect(error).toBe(Errno.EAGAIN);
        break;
      }
    }
    expect(written).toBeGreaterThan(0);
    expect(writer.readiness(POLLOUT)).toBe(0);

    const woken = nextWake(writer, POLLOUT);
    const drain = new Uint8Array(written);
    let drained = 0;
    while (drained < written) {
      drained += hostFs.readSync(readFd, drain, drained, written - drained, null);
    }
    await woken;
    expect(writer.readiness(POLLOUT)).toBe(POLLOUT);

    hostFs.closeSync(readFd);
    hostFds.splice(hostFds.indexOf(readFd), 1);
    expect(writer.readiness(POLLOUT) & POLLERR).toBe(POLLERR);
    expect(errnoOf(() => writer.write(chunk))).toBe(Errno.EPIPE);
    writer.decRef();
  });

  it("reports regular files always ready", () => {
    const path = join(hostRoot, "plain");
    const fd = hostOpen(path, hostFs.constants.O_CREAT | hostFs.constants.O_RDWR);
    const file = new FileDescription(new HostFdFile(fd), O_RDWR);
    expect(file.readiness(POLLIN | POLLOUT)).toBe(POLLIN | POLLOUT);
    expect(getStatusFlags(fd) & O_NONBLOCK).toBe(0);
    file.decRef();
  });

  it("stops polling when the watch is removed", async () => {
    const [readFd] = hostPipe();
    const poller = new HostPoller();
    const reader = new FileDescription(new HostFdFile(readFd, { poller }), O_RDONLY);
    let woken = 0;
    const unwatch = reader.watch(POLLIN, () => woken++);
    expect(poller.size).toBe(1);
    expect(poller.active).toBe(true);

    unwatch();
    unwatch();
    for (let i = 0; i < 100 && poller.active; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(poller.active).toBe(false);
    expect(poller.size).toBe(0);
    expect(woken).toBe(0);
    reader.decRef();
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
