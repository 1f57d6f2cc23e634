import { Errno, PollEvents, SyscallError } from "@sandbox/abi";
import { describe, expect, it } from "vitest";
import { DEFAULT_PIPE_SIZE, MAX_PIPE_SIZE, PIPE_BUF, Pipe } from "./Pipe";

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

/** Returns a pipe with one reader and one writer open. */
function openPipe(capacity?: number): Pipe {
  const pipe = new Pipe(capacity);
  pipe.openReader();
  pipe.openWriter();
  return pipe;
}

function bytes(length: number, seed = 0): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);
}

describe("Pipe", () => {
  it("starts with 64 KiB of room", () => {
    const pipe = openPipe();
    expect(pipe.capacity).toBe(DEFAULT_PIPE_SIZE);
    expect(pipe.write(bytes(DEFAULT_PIPE_SIZE))).toBe(DEFAULT_PIPE_SIZE);
    expect(errnoOf(() => pipe.write(bytes(1)))).toBe(Errno.EAGAIN);
    expect(pipe.size).toBe(DEFAULT_PIPE_SIZE);
  });

  it("keeps bytes in order across the ring's end", () => {
    const pipe = openPipe(8192);
    const sent: number[] = [];
    const received: number[] = [];
    for (let round = 0; round < 50; round++) {
      const chunk = bytes(1000 + round * 37, round);
      const count = pipe.write(chunk);
      sent.push(...chunk.subarray(0, count));
      const dst = new Uint8Array(900 + round * 41);
      const got = pipe.read(dst);
      received.push(...dst.subarray(0, got));
    }
    const rest = new Uint8Array(pipe.size);
    expect(pipe.read(rest)).toBe(rest.length);
    received.push(...rest);
    expect(received).toEqual(sent);
  });

  it("writes up to PIPE_BUF bytes whole or not at all", () => {
    const pipe = openPipe(8192);
    pipe.write(bytes(8192 - 100));
    expect(errnoOf(() => pipe.write(bytes(101)))).toBe(Errno.EAGAIN);
    expect(errnoOf(() => pipe.write(bytes(PIPE_BUF)))).toBe(Errno.EAGAIN);
    expect(pipe.write(bytes(100))).toBe(100);
    expect(pipe.size).toBe(8192);
  });

  it("writes part of a write above PIPE_BUF", () => {
    const pipe = openPipe(8192);
    pipe.write(bytes(8192 - 100));
    expect(pipe.write(bytes(PIPE_BUF + 1))).toBe(100);
    expect(errnoOf(() => pipe.write(bytes(PIPE_BUF + 1)))).toBe(Errno.EAGAIN);
  });

  it("returns EAGAIN when empty and 0 after the last writer", () => {
    const pipe = openPipe();
    const dst = new Uint8Array(10);
    expect(errnoOf(() => pipe.read(dst))).toBe(Errno.EAGAIN);
    pipe.write(bytes(3));
    pipe.closeWriter();
    expect(pipe.read(dst)).toBe(3);
    expect(pipe.read(dst)).toBe(0);
    expect(pipe.read(new Uint8Array(0))).toBe(0);
  });

  it("fails writes with EPIPE without readers", () => {
    const pipe = openPipe();
    pipe.closeReader();
    expect(errnoOf(() => pipe.write(bytes(1)))).toBe(Errno.EPIPE);
    expect(errnoOf(() => pipe.write(new Uint8Array(0)))).toBe(Errno.EPIPE);
  });

  it("wakes readers on data and writers on room", () => {
    const pipe = openPipe(4096);
    const woken: string[] = [];
    pipe.queue.add(PollEvents.POLLIN, () => woken.push("reader"));
    pipe.write(bytes(4096));
    expect(woken).toEqual(["reader"]);

    pipe.queue.add(PollEvents.POLLOUT, () => woken.push("writer"));
    pipe.read(new Uint8Array(1));
    expect(woken).toEqual(["reader", "writer"]);
  });

  it("wakes waiters when an end closes", () => {
    const pipe = openPipe();
    const woken: string[] = [];
    pipe.queue.add(PollEvents.POLLIN, () => woken.push("reader"));
    pipe.queue.add(PollEvents.POLLOUT, () => woken.push("writer"));
    pipe.closeWriter();
    expect(woken).toEqual(["reader", "writer"]);
  });

  it("rounds F_SETPIPE_SZ sizes to a power of two pages", () => {
    const pipe = openPipe();
    expect(pipe.setCapacity(0)).toBe(4096);
    expect(pipe.setCapacity(4097)).toBe(8192);
    expect(pipe.setCapacity(100_000)).toBe(131072);
    expect(pipe.setCapacity(MAX_PIPE_SIZE)).toBe(MAX_PIPE_SIZE);
    expect(errnoOf(() => pipe.setCapacity(MAX_PIPE_SIZE + 1))).toBe(Errno.EPERM);
    expect(pipe.setCapacity(MAX_PIPE_SIZE + 1, true)).toBe(2 * MAX_PIPE_SIZE);
    expect(errnoOf(() => pipe.setCapacity(2 ** 31 + 1, true))).toBe(Errno.EINVAL);
    expect(errnoOf(() => pipe.setCapacity(-1))).toBe(Errno.EINVAL);
    expect(errnoOf(() => pipe.setCapacity(1.5))).toBe(Errno.EINVAL);
  });

  it("keeps the data when the capacity changes", () => {
    const pipe = openPipe(8192);
    pipe.write(bytes(6000, 1));
    pipe.read(new Uint8Array(5000));
    pipe.write(bytes(6000, 2));
    expect(errnoOf(() => pipe.setCapacity(4096))).toBe(Errno.EBUSY);
    expect(pipe.setCapacity(16384)).toBe(16384);

    const dst = new Uint8Array(7000);
    expect(pipe.read(dst)).toBe(7000);
    expect(dst.subarray(0, 1000)).toEqual(bytes(6000, 1).subarray(5000));
    expect(dst.subarray(1000)).toEqual(bytes(6000, 2));
  });

  it("drops the data when every end is closed", () => {
    const pipe = openPipe();
    pipe.write(bytes(10));
    pipe.closeReader();
    pipe.closeWriter();
    expect(pipe.size).toBe(0);
    expect(() => pipe.closeWriter()).toThrow(/without an open writer/);
  });
});
