import { execFileSync } from "node:child_process";
import { closeSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Errno } from "@sandbox/abi";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MessageType, READDIR_WITH_STAT, ROOT_HANDLE, SetattrMask } from "../protocol/messages";
import { MessageReader } from "../protocol/MessageReader";
import { MessageWriter } from "../protocol/MessageWriter";
import { readStat } from "../protocol/wireStat";
import { GoferError } from "./GoferError";
import { GoferServer } from "./GoferServer";

/** Runs one request on `server` in this process and returns the reply's errno and body. */
function call(server: GoferServer, type: MessageType, build: (writer: MessageWriter) => void): MessageReader {
  const requestBytes = new Uint8Array(1024);
  const request = new MessageWriter(requestBytes).start(type, 0, 7);
  build(request);
  const replyBytes = new Uint8Array(64 * 1024);
  const reply = new MessageWriter(replyBytes);
  const fd = server.handle(new MessageReader(requestBytes, request.length), reply);
  expect(fd).toBe(-1);
  const reader = new MessageReader(replyBytes, reply.length);
  expect(reader.tag).toBe(7);
  expect(reader.type).toBe(type);
  return reader;
}

/** Walks `name` from the root and returns its handle. */
function walk(server: GoferServer, name: string): number {
  const reply = call(server, MessageType.WALK, (writer) => writer.u32(ROOT_HANDLE).byteString(name));
  expect({ name, errno: reply.errno }).toEqual({ name, errno: 0 });
  return reply.u32();
}

function setattrSize(server: GoferServer, handle: number, size: number): number {
  return call(server, MessageType.SETATTR, (writer) =>
    writer.u32(handle).u32(SetattrMask.SIZE).u32(0).u32(0).u32(0).u32(0).u64(size).i64(0).i64(0).u32(0).u32(0),
  ).errno;
}

describe("GoferServer", () => {
  let root: string;
  let server: GoferServer | undefined;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "gofer-server-"));
    mkdirSync(join(root, "dir"));
    writeFileSync(join(root, "file"), "0123456789");
    symlinkSync("file", join(root, "link"));
    execFileSync("mkfifo", [join(root, "fifo")]);
  });

  afterEach(() => {
    server?.close();
    server = undefined;
    rmSync(root, { recursive: true, force: true });
  });

  it("checks attribute changes by file type", () => {
    server = new GoferServer({ root, readOnly: false });
    expect(setattrSize(server, walk(server, "dir"), 0)).toBe(Errno.EISDIR);
    expect(setattrSize(server, walk(server, "fifo"), 0)).toBe(Errno.EINVAL);
    expect(setattrSize(server, walk(server, "file"), 4)).toBe(0);
    const chmodLink = call(server, MessageType.SETATTR, (writer) =>
      writer.u32(walk(server!, "link")).u32(SetattrMask.MODE).u32(0o600).u32(0).u32(0).u32(0).u64(0).i64(0).i64(0).u32(0).u32(0),
    );
    expect(chmodLink.errno).toBe(Errno.EOPNOTSUPP);
  });

  it("READDIR with attributes in pieces", () => {
    for (let i = 0; i < 600; i++) writeFileSync(join(root, "dir", `entry-with-a-longish-name-${i}`), "x".repeat(i));
    symlinkSync("entry-with-a-longish-name-1", join(root, "dir", "link"));
    server = new GoferServer({ root, readOnly: true });

    const dir = walk(server, "dir");
    const seen = new Map<string, { mode: number; size: number }>();
    let position = 0n;
    let replies = 0;
    for (;;) {
      const reply = call(server, MessageType.READDIR, (writer) => writer.u32(dir).u32(READDIR_WITH_STAT).i64(position));
      expect(reply.errno).toBe(0);
      replies++;
      const count = reply.u32();
      const done = (reply.u32() & 1) !== 0;
      position = reply.i64();
      for (let i = 0; i < count; i++) {
        reply.u64();
        reply.u8();
        const name = reply.byteString(reply.u8());
        const stat = readStat(reply, 1);
        seen.set(name, { mode: stat.mode, size: stat.size });
      }
      if (done) break;
    }

    // Several replies, each within a message, cover every entry.
    expect(replies).toBeGreaterThan(2);
    expect(seen.size).toBe(601);
    for (let i = 0; i < 600; i += 37) {
      const host = lstatSync(join(root, "dir", `entry-with-a-longish-name-${i}`));
      expect(seen.get(`entry-with-a-longish-name-${i}`)).toEqual({ mode: host.mode, size: host.size });
    }
    // A link is reported as itself, not followed.
    expect(seen.get("link")?.mode).toBe(lstatSync(join(root, "dir", "link")).mode);
  });

  it("OPENAT opens a path below a handle", () => {
    mkdirSync(join(root, "dir", "sub"));
    writeFileSync(join(root, "dir", "sub", "f"), "below");
    symlinkSync("sub", join(root, "dir", "lnk"));
    server = new GoferServer({ root, readOnly: true });
    const requestBytes = new Uint8Array(1024);
    const request = new MessageWriter(requestBytes).start(MessageType.OPENAT, 0, 7);
    request.u32(ROOT_HANDLE).u32(0).byteString("dir/sub/f");
    const reply = new MessageWriter(new Uint8Array(1024));
    const fd = server.handle(new MessageReader(requestBytes, request.length), reply);
    try {
      expect(fd).toBeGreaterThanOrEqual(0);
      expect(readFileSync(fd, "utf8")).toBe("below");
    } finally {
      if (fd >= 0) closeSync(fd);
    }

    const openAt = (path: string, flags = 0) => call(server!, MessageType.OPENAT, (writer) => writer.u32(ROOT_HANDLE).u32(flags).byteString(path)).errno;
    for (const path of ["dir/../file", "dir//sub", "/dir", "dir/", "", "."]) expect({ path, errno: openAt(path) }).toEqual({ path, errno: Errno.EINVAL });
    // No component may be a symbolic link, as a WALK of each name refuses them.
    expect(openAt("dir/lnk/f")).toBe(Errno.ELOOP);
    expect(openAt("link")).toBe(Errno.ELOOP);
    expect(openAt("fifo")).toBe(Errno.EACCES);
    expect(openAt("dir/missing")).toBe(Errno.ENOENT);
    expect(openAt("file", 1)).toBe(Errno.EROFS);
  });

  it("rejects requests on the wrong kind of file", () => {
    server = new GoferServer({ root, readOnly: false });
    const file = walk(server, "file");
    expect(call(server, MessageType.READDIR, (writer) => writer.u32(file).u32(0).i64(0)).errno).toBe(Errno.ENOTDIR);
    expect(call(server, MessageType.WALK, (writer) => writer.u32(file).byteString("x")).errno).toBe(Errno.ENOTDIR);
    expect(call(server, MessageType.OPEN, (writer) => writer.u32(walk(server!, "dir")).u32(1)).errno).toBe(Errno.EISDIR);
    expect(call(server, MessageType.LINK, (writer) => writer.u32(ROOT_HANDLE).u32(walk(server!, "dir")).byteString("d2")).errno).toBe(
      Errno.EPERM,
    );
    expect(call(server, MessageType.UNLINK, (writer) => writer.u32(ROOT_HANDLE).u32(1).byteString("file")).errno).toBe(Errno.EINVAL);
    expect(call(server, MessageType.SYMLINK, (writer) => writer.u32(ROOT_HANDLE).u32(0).u32(0).u16(1).u16(0).byteString("s")).errno).toBe(
      Errno.ENOENT,
    );
  });

  it("rejects changes when read-only", () => {
    server = new GoferServer({ root, readOnly: true });
    expect(setattrSize(server, walk(server, "file"), 0)).toBe(Errno.EROFS);
    expect(call(server, MessageType.UNLINK, (writer) => writer.u32(ROOT_HANDLE).u32(0).byteString("file")).errno).toBe(Errno.EROFS);
    const attach = call(server, MessageType.ATTACH, () => undefined);
    expect(attach.u32()).toBe(ROOT_HANDLE);
    expect(attach.u32()).toBe(1);
  });

  it("rejects a root that is not a directory", () => {
    expect(() => new GoferServer({ root: join(root, "file"), readOnly: true })).toThrow(GoferError);
    expect(() => new GoferServer({ root: join(root, "missing"), readOnly: true })).toThrow("cannot open the mount root");
  });
});
