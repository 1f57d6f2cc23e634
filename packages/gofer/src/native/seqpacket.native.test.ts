import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isSeqpacketSocket, MessageBuffer, seqpacketPair } from "./seqpacket.native";

const EPIPE = 32;
const EPROTO = 71;
const EMSGSIZE = 90;
const O_CLOEXEC = 0o2000000;

describe("MessageBuffer", () => {
  const fds: number[] = [];
  const buffers: MessageBuffer[] = [];
  let directory: string;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), "gofer-seqpacket-"));
  });

  afterEach(() => {
    for (const fd of fds.splice(0)) {
      try {
        closeSync(fd);
      } catch {
        // Closed by the test.
      }
    }
    for (const buffer of buffers.splice(0)) buffer.free();
    rmSync(directory, { recursive: true, force: true });
  });

  function pair(): [number, number] {
    const result = seqpacketPair();
    if (typeof result === "number") {
      throw new Error(`socketpair failed with errno ${-result}`);
    }
    fds.push(...result);
    return result;
  }

  function newBuffer(capacity: number): MessageBuffer {
    const buffer = new MessageBuffer(capacity);
    buffers.push(buffer);
    return buffer;
  }

  it("passes bytes and a descriptor", () => {
    const [a, b] = pair();
    expect(isSeqpacketSocket(a)).toBe(true);
    const path = join(directory, "file");
    writeFileSync(path, "passed");
    const fd = openSync(path, "r");
    fds.push(fd);

    const sender = newBuffer(64);
    const receiver = newBuffer(64);
    sender.bytes.set([1, 2, 3]);
    expect(sender.send(a, 3, fd)).toBe(3);
    expect(receiver.receive(b)).toBe(3);
    expect([...receiver.bytes.subarray(0, 3)]).toEqual([1, 2, 3]);

    const received = receiver.receivedFd;
    fds.push(received);
    expect(received).not.toBe(fd);
    expect(fstatSync(received).ino).toBe(fstatSync(fd).ino);
    const flags = /flags:\s+([0-7]+)/.exec(readFileSync(`/proc/self/fdinfo/${received}`, "utf8"))?.[1];
    expect(Number.parseInt(flags ?? "0", 8) & O_CLOEXEC).toBe(O_CLOEXEC);

    expect(sender.send(a, 1, -1)).toBe(1);
    expect(receiver.receive(b)).toBe(1);
    expect(receiver.receivedFd).toBe(-1);
  });

  it("rejects a message longer than the buffer", () => {
    const [a, b] = pair();
    const sender = newBuffer(128);
    const receiver = newBuffer(16);
    expect(sender.send(a, 129, -1)).toBe(-EMSGSIZE);
    expect(sender.send(a, 100, -1)).toBe(100);
    expect(receiver.receive(b)).toBe(-EPROTO);
  });

  it("reports a closed peer", () => {
    const [a, b] = pair();
    const buffer = newBuffer(16);
    closeSync(b);
    expect(buffer.receive(a)).toBe(0);
    expect(buffer.send(a, 1, -1)).toBe(-EPIPE);
  });

  it("refuses use after free and a bad capacity", () => {
    const buffer = new MessageBuffer(8);
    buffer.free();
    buffer.free();
    expect(() => buffer.receive(0)).toThrow("MessageBuffer used after free");
    expect(() => new MessageBuffer(0)).toThrow(RangeError);
    expect(isSeqpacketSocket(0)).toBe(false);
  });
});
