import { Errno, PollEvents, SyscallError } from "@sandbox/abi";
import { describe, expect, it } from "vitest";
import { O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY, S_IFIFO, S_IFMT } from "../constants";
import { TmpFileSystem } from "../tmpfs/TmpFileSystem";
import { VirtualFileSystem } from "../VirtualFileSystem";
import type { PipeFile } from "./PipeFile";
import { pipeOf } from "./PipeFile";

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

const { POLLIN, POLLOUT, POLLHUP } = PollEvents;

function newFifo() {
  const vfs = new VirtualFileSystem();
  vfs.mountRoot(new TmpFileSystem({ dev: vfs.allocateDevice() }));
  const ctx = vfs.newContext();
  vfs.mknodAt(ctx, undefined, "/fifo", S_IFIFO | 0o644);
  const open = (flags: number) => vfs.openAt(ctx, undefined, "/fifo", flags);
  return { vfs, ctx, open };
}

describe("FIFO on tmpfs", () => {
  it("passes data from writer to reader", () => {
    const { open } = newFifo();
    const reader = open(O_RDONLY | O_NONBLOCK);
    const writer = open(O_WRONLY);
    expect(pipeOf(reader)).toBe(pipeOf(writer));
    expect(reader.stat().mode & S_IFMT).toBe(S_IFIFO);

    writer.write(Uint8Array.of(7, 8));
    const buffer = new Uint8Array(4);
    expect(reader.read(buffer)).toBe(2);
    expect(buffer.subarray(0, 2)).toEqual(Uint8Array.of(7, 8));
    writer.decRef();
    expect(reader.read(buffer)).toBe(0);
    reader.decRef();
  });

  it("fails a nonblocking write open without readers", () => {
    const { open } = newFifo();
    expect(errnoOf(() => open(O_WRONLY | O_NONBLOCK))).toBe(Errno.ENXIO);
    const reader = open(O_RDONLY | O_NONBLOCK);
    const writer = open(O_WRONLY | O_NONBLOCK);
    writer.decRef();
    reader.decRef();
  });

  it("gives a nonblocking reader end of file without writers", () => {
    const { open } = newFifo();
    const reader = open(O_RDONLY | O_NONBLOCK);
    expect(reader.read(new Uint8Array(4))).toBe(0);
    expect(reader.readiness(POLLIN)).toBe(0);

    const writer = open(O_WRONLY);
    writer.decRef();
    expect(reader.readiness(POLLIN)).toBe(POLLHUP);
    reader.decRef();
  });

  it("makes a blocking reader wait for a writer", () => {
    const { open } = newFifo();
    const reader = open(O_RDONLY);
    const impl = reader.impl as PipeFile;
    expect(impl.waitingForPeer).toBe(true);
    expect(errnoOf(() => reader.read(new Uint8Array(4)))).toBe(Errno.EAGAIN);
    expect(reader.readiness(POLLIN)).toBe(0);

    let woken = 0;
    reader.watch(POLLIN, () => woken++);
    const writer = open(O_WRONLY);
    expect(woken).toBe(1);
    expect(impl.waitingForPeer).toBe(false);
    writer.decRef();
    expect(reader.read(new Uint8Array(4))).toBe(0);
    reader.decRef();
  });

  it("makes a blocking writer wait for a reader", () => {
    const { open } = newFifo();
    const writer = open(O_WRONLY);
    expect((writer.impl as PipeFile).waitingForPeer).toBe(true);
    expect(errnoOf(() => writer.write(Uint8Array.of(1)))).toBe(Errno.EAGAIN);
    expect(writer.readiness(POLLOUT)).toBe(0);

    let woken = 0;
    writer.watch(POLLOUT, () => woken++);
    const reader = open(O_RDONLY);
    expect(woken).toBe(1);
    expect(writer.write(Uint8Array.of(1))).toBe(1);
    reader.decRef();
    expect(errnoOf(() => writer.write(Uint8Array.of(1)))).toBe(Errno.EPIPE);
    writer.decRef();
  });

  it("opens both ends with O_RDWR", () => {
    const { open } = newFifo();
    const both = open(O_RDWR);
    expect((both.impl as PipeFile).waitingForPeer).toBe(false);
    both.write(Uint8Array.of(5));
    expect(both.readiness(POLLIN | POLLOUT)).toBe(POLLIN | POLLOUT);
    const buffer = new Uint8Array(1);
    expect(both.read(buffer)).toBe(1);
    expect(errnoOf(() => both.read(buffer))).toBe(Errno.EAGAIN);
    const writer = open(O_WRONLY | O_NONBLOCK);
    writer.decRef();
    both.decRef();
  });

  it("drops the data when the last end closes", () => {
    const { open } = newFifo();
    const both = open(O_RDWR);
    both.write(Uint8Array.of(1, 2, 3));
    both.decRef();
    const reader = open(O_RDONLY | O_NONBLOCK);
    expect(reader.read(new Uint8Array(4))).toBe(0);
    reader.decRef();
  });
});
