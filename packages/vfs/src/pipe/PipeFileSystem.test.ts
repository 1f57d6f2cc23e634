import { Errno, PollEvents, SyscallError } from "@sandbox/abi";
import { describe, expect, it } from "vitest";
import { O_CLOEXEC, O_DIRECT, O_NONBLOCK, O_RDONLY, O_WRONLY, SEEK_SET, S_IFIFO, S_IFMT } from "../constants";
import { pipeOf } from "./PipeFile";
import { PipeFileSystem } from "./PipeFileSystem";

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

const { POLLIN, POLLOUT, POLLHUP, POLLERR, POLLRDNORM, POLLWRNORM } = PollEvents;

describe("PipeFileSystem", () => {
  it("creates a read end and a write end", () => {
    const pipefs = new PipeFileSystem({ dev: 9 });
    const [reader, writer] = pipefs.createPipe(0, { uid: 1000, gid: 100 });
    expect(reader.statusFlags & 3).toBe(O_RDONLY);
    expect(writer.statusFlags & 3).toBe(O_WRONLY);

    expect(writer.write(new TextEncoder().encode("hello"))).toBe(5);
    const buffer = new Uint8Array(16);
    expect(reader.read(buffer)).toBe(5);
    expect(new TextDecoder().decode(buffer.subarray(0, 5))).toBe("hello");
    expect(errnoOf(() => writer.read(buffer))).toBe(Errno.EBADF);
    expect(errnoOf(() => reader.write(buffer))).toBe(Errno.EBADF);
    expect(errnoOf(() => reader.seek(0, SEEK_SET))).toBe(Errno.ESPIPE);
    expect(errnoOf(() => reader.pread(buffer, 0))).toBe(Errno.ESPIPE);
    reader.decRef();
    writer.decRef();
  });

  it("reports an anonymous FIFO inode", () => {
    const pipefs = new PipeFileSystem({ dev: 9 });
    const [reader, writer] = pipefs.createPipe(0, { uid: 1000, gid: 100 });
    const [other] = pipefs.createPipe();
    const stat = reader.stat();
    expect(stat.mode).toBe(S_IFIFO | 0o600);
    expect(stat.mode & S_IFMT).toBe(S_IFIFO);
    expect(stat.dev).toBe(9);
    expect(stat.uid).toBe(1000);
    expect(stat.gid).toBe(100);
    expect(writer.stat().ino).toBe(stat.ino);
    expect(other.stat().ino).not.toBe(stat.ino);
    expect(pipeOf(reader)).toBe(pipeOf(writer));
    expect(pipeOf(reader)?.capacity).toBe(65536);
  });

  it("takes O_NONBLOCK and O_CLOEXEC only", () => {
    const pipefs = new PipeFileSystem({ dev: 9 });
    const [reader, writer] = pipefs.createPipe(O_NONBLOCK | O_CLOEXEC);
    expect(reader.nonblocking).toBe(true);
    expect(writer.nonblocking).toBe(true);
    expect(reader.statusFlags & O_CLOEXEC).toBe(0);
    expect(errnoOf(() => pipefs.createPipe(0x1))).toBe(Errno.EINVAL);
    expect(errnoOf(() => pipefs.createPipe(O_DIRECT))).toBe(Errno.EINVAL);
  });

  it("reports end of file after the last writer", () => {
    const pipefs = new PipeFileSystem({ dev: 9 });
    const [reader, writer] = pipefs.createPipe();
    writer.incRef();
    writer.write(Uint8Array.of(1));
    writer.decRef();
    const buffer = new Uint8Array(4);
    expect(reader.read(buffer)).toBe(1);
    expect(errnoOf(() => reader.read(buffer))).toBe(Errno.EAGAIN);
    writer.decRef();
    expect(reader.read(buffer)).toBe(0);
    expect(reader.readiness(POLLIN)).toBe(POLLHUP);
    reader.decRef();
  });

  it("fails writes with EPIPE after the last reader", () => {
    const pipefs = new PipeFileSystem({ dev: 9 });
    const [reader, writer] = pipefs.createPipe();
    reader.decRef();
    expect(errnoOf(() => writer.write(Uint8Array.of(1)))).toBe(Errno.EPIPE);
    expect(writer.readiness(POLLOUT)).toBe(POLLOUT | POLLERR);
    writer.decRef();
  });

  it("reports POLLIN and POLLOUT as data and room change", () => {
    const pipefs = new PipeFileSystem({ dev: 9 });
    const [reader, writer] = pipefs.createPipe();
    const all = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
    expect(reader.readiness(all)).toBe(0);
    expect(writer.readiness(all)).toBe(POLLOUT | POLLWRNORM);
    expect(writer.readiness(POLLIN)).toBe(0);

    writer.write(new Uint8Array(65536 - 4095));
    expect(reader.readiness(all)).toBe(POLLIN | POLLRDNORM);
    expect(writer.readiness(all)).toBe(0);
    reader.read(new Uint8Array(1));
    expect(writer.readiness(POLLOUT)).toBe(POLLOUT);
    reader.decRef();
    writer.decRef();
  });

  it("wakes a reader through watch", () => {
    const pipefs = new PipeFileSystem({ dev: 9 });
    const [reader, writer] = pipefs.createPipe();
    let woken = 0;
    reader.watch(POLLIN, () => woken++);
    const unwatched = reader.watch(POLLIN, () => woken++);
    unwatched();
    writer.write(Uint8Array.of(1));
    expect(woken).toBe(1);

    reader.watch(POLLIN, () => woken++);
    writer.decRef();
    expect(woken).toBe(2);
    reader.decRef();
  });

  it("wakes a writer through watch", () => {
    const pipefs = new PipeFileSystem({ dev: 9 });
    const [reader, writer] = pipefs.createPipe();
    writer.write(new Uint8Array(65536));
    let woken = 0;
    writer.watch(POLLOUT, () => woken++);
    reader.read(new Uint8Array(8192));
    expect(woken).toBe(1);

    writer.watch(POLLOUT, () => woken++);
    reader.decRef();
    expect(woken).toBe(2);
    writer.decRef();
  });
});
