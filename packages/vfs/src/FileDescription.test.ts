import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Errno, PollEvents, SyscallError } from "@sandbox/abi";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  O_APPEND,
  O_CREAT,
  O_DIRECTORY,
  O_NONBLOCK,
  O_PATH,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  SEEK_CUR,
  SEEK_DATA,
  SEEK_END,
  SEEK_HOLE,
  SEEK_SET,
} from "./constants";
import { DIRENT64_NAME, DIRENT64_OFF, DIRENT64_RECLEN } from "./dirent";
import type { FileDescription } from "./FileDescription";
import { HostFileSystem } from "./host/HostFileSystem";
import type { FsContext } from "./operations/context";
import { TmpFileSystem } from "./tmpfs/TmpFileSystem";
import { VirtualFileSystem } from "./VirtualFileSystem";

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

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

/** Reads linux_dirent64 records from `buffer` and returns their names and d_off values. */
function parseDirents(buffer: Uint8Array, length: number): { name: string; next: number }[] {
  const view = new DataView(buffer.buffer, buffer.byteOffset, length);
  const entries: { name: string; next: number }[] = [];
  for (let offset = 0; offset < length; ) {
    const recordLength = view.getUint16(offset + DIRENT64_RECLEN, true);
    const nameStart = offset + DIRENT64_NAME;
    const nameEnd = buffer.indexOf(0, nameStart);
    entries.push({
      name: Buffer.from(buffer.subarray(nameStart, nameEnd)).toString("latin1"),
      next: Number(view.getBigInt64(offset + DIRENT64_OFF, true)),
    });
    offset += recordLength;
  }
  return entries;
}

describe("FileDescription", () => {
  let vfs: VirtualFileSystem;
  let ctx: FsContext;
  const open: FileDescription[] = [];
  const openFile = (path: string, flags: number, mode = 0o644) => {
    const file = vfs.openAt(ctx, undefined, path, flags, mode);
    open.push(file);
    return file;
  };

  beforeEach(() => {
    vfs = new VirtualFileSystem();
    vfs.mountRoot(new TmpFileSystem({ dev: vfs.allocateDevice() }));
    ctx = vfs.newContext();
  });

  afterEach(() => {
    for (const file of open.splice(0)) {
      file.decRef();
    }
  });

  it("reads and writes at the offset", () => {
    const file = openFile("/f", O_CREAT | O_RDWR);
    expect(file.write(bytes("hello world"))).toBe(11);
    expect(file.offset).toBe(11);
    expect(file.seek(6, SEEK_SET)).toBe(6);
    const buffer = new Uint8Array(16);
    expect(file.read(buffer)).toBe(5);
    expect(text(buffer.subarray(0, 5))).toBe("world");
    expect(file.read(buffer)).toBe(0);

    expect(file.pwrite(bytes("HELLO"), 0)).toBe(5);
    expect(file.offset).toBe(11);
    expect(file.pread(buffer, 0)).toBe(11);
    expect(text(buffer.subarray(0, 11))).toBe("HELLO world");
    expect(errnoOf(() => file.pread(buffer, -1))).toBe(Errno.EINVAL);
  });

  it("reports regular files always ready", () => {
    const file = openFile("/f", O_CREAT | O_RDWR);
    const { POLLIN, POLLOUT, POLLPRI, POLLRDNORM } = PollEvents;
    expect(file.readiness(POLLIN | POLLOUT)).toBe(POLLIN | POLLOUT);
    expect(file.readiness(POLLIN | POLLPRI | POLLRDNORM)).toBe(POLLIN | POLLRDNORM);
    let woken = 0;
    file.watch(POLLIN, () => woken++)();
    expect(woken).toBe(0);
    expect(file.nonblocking).toBe(false);

    const path = openFile("/f", O_PATH);
    expect(path.readiness(POLLIN)).toBe(PollEvents.POLLNVAL);
  });

  it("enforces the access mode", () => {
    openFile("/f", O_CREAT | O_WRONLY);
    const readOnly = openFile("/f", O_RDONLY);
    const writeOnly = openFile("/f", O_WRONLY);
    const path = openFile("/f", O_PATH);
    const buffer = new Uint8Array(4);

    expect(errnoOf(() => readOnly.write(buffer))).toBe(Errno.EBADF);
    expect(errnoOf(() => readOnly.pwrite(buffer, 0))).toBe(Errno.EBADF);
    expect(errnoOf(() => writeOnly.read(buffer))).toBe(Errno.EBADF);
    expect(errnoOf(() => path.read(buffer))).toBe(Errno.EBADF);
    expect(errnoOf(() => path.seek(0, SEEK_SET))).toBe(Errno.EBADF);
    expect(errnoOf(() => readOnly.truncate(0))).toBe(Errno.EINVAL);
    expect(path.stat().size).toBe(0);
  });

  it("appends with O_APPEND", () => {
    const file = openFile("/log", O_CREAT | O_WRONLY | O_APPEND);
    file.write(bytes("one "));
    file.seek(0, SEEK_SET);
    file.write(bytes("two"));
    expect(file.offset).toBe(7);
    file.pwrite(bytes("!"), 0);
    expect(file.stat().size).toBe(8);
  });

  it("keeps and changes status flags", () => {
    const file = openFile("/f", O_CREAT | O_RDWR | O_NONBLOCK);
    expect(file.statusFlags).toBe(O_RDWR | O_NONBLOCK | 0o100000);
    file.setStatusFlags(O_APPEND | O_WRONLY);
    expect(file.statusFlags).toBe(O_RDWR | O_APPEND | 0o100000);
  });

  it("seeks with every whence", () => {
    const file = openFile("/f", O_CREAT | O_RDWR);
    file.write(new Uint8Array(100));
    expect(file.seek(-10, SEEK_END)).toBe(90);
    expect(file.seek(5, SEEK_CUR)).toBe(95);
    expect(errnoOf(() => file.seek(-96, SEEK_CUR))).toBe(Errno.EINVAL);
    expect(file.offset).toBe(95);
    expect(errnoOf(() => file.seek(0, 9))).toBe(Errno.EINVAL);
    expect(file.seek(200, SEEK_SET)).toBe(200);
    expect(file.seek(10, SEEK_DATA)).toBe(10);
    expect(file.seek(10, SEEK_HOLE)).toBe(100);
    expect(errnoOf(() => file.seek(100, SEEK_DATA))).toBe(Errno.ENXIO);
  });

  it("finds holes in a sparse file", () => {
    const file = openFile("/sparse", O_CREAT | O_RDWR);
    file.pwrite(bytes("x"), 3 * 4096);
    file.truncate(10 * 4096);
    expect(file.seek(0, SEEK_DATA)).toBe(3 * 4096);
    expect(file.seek(0, SEEK_HOLE)).toBe(0);
    expect(file.seek(3 * 4096 + 1, SEEK_HOLE)).toBe(4 * 4096);
    expect(errnoOf(() => file.seek(4 * 4096, SEEK_DATA))).toBe(Errno.ENXIO);
    expect(file.stat().blocks).toBe(8);
  });

  it("lists a directory across getdents64 calls", () => {
    vfs.mkdirAt(ctx, undefined, "/d", 0o755);
    const names = Array.from({ length: 20 }, (_, i) => `entry-${i}`);
    for (const name of names) {
      openFile(`/d/${name}`, O_CREAT | O_WRONLY);
    }
    const dir = openFile("/d", O_RDONLY | O_DIRECTORY);
    const seen: string[] = [];
    const buffer = new Uint8Array(96);
    let removed = false;
    for (;;) {
      const length = dir.getdents64(buffer);
      if (length === 0) {
        break;
      }
      const entries = parseDirents(buffer, length);
      expect(entries.length).toBeGreaterThan(0);
      seen.push(...entries.map((entry) => entry.name));
      expect(dir.offset).toBe(entries[entries.length - 1].next);
      // A name removed mid-listing must not disturb the cursor.
      if (seen.length >= 6 && !removed) {
        vfs.unlinkAt(ctx, undefined, "/d/entry-19");
        removed = true;
      }
    }
    expect(seen).toEqual([".", "..", ...names.slice(0, 19)]);

    expect(dir.seek(0, SEEK_SET)).toBe(0);
    expect(errnoOf(() => dir.seek(0, SEEK_END))).toBe(Errno.EINVAL);
    expect(errnoOf(() => dir.getdents64(new Uint8Array(8)))).toBe(Errno.EINVAL);
    expect(errnoOf(() => dir.read(buffer))).toBe(Errno.EISDIR);

    const file = openFile("/d/entry-0", O_RDONLY);
    expect(errnoOf(() => file.getdents64(buffer))).toBe(Errno.ENOTDIR);
  });
});

describe("FileDescription on host directories", () => {
  let hostRoot: string;

  beforeEach(() => {
    hostRoot = mkdtempSync(join(tmpdir(), "vfs-getdents-"));
  });

  afterEach(() => {
    rmSync(hostRoot, { recursive: true, force: true });
  });

  it("lists what readdirSync lists, resuming at d_off", () => {
    for (let i = 0; i < 50; i++) {
      const fd = openSync(join(hostRoot, `file-${i}`), "w");
      writeSync(fd, "x");
      closeSync(fd);
    }
    const vfs = new VirtualFileSystem();
    vfs.mountRoot(new HostFileSystem(hostRoot, { dev: vfs.allocateDevice() }));
    const ctx = vfs.newContext();
    const dir = vfs.openAt(ctx, undefined, "/", O_RDONLY | O_DIRECTORY);
    const buffer = new Uint8Array(256);

    const first = parseDirents(buffer, dir.getdents64(buffer));
    const resumeAt = first[2].next;
    const seen = first.map((entry) => entry.name);
    for (let length = dir.getdents64(buffer); length > 0; length = dir.getdents64(buffer)) {
      seen.push(...parseDirents(buffer, length).map((entry) => entry.name));
    }
    expect(seen.slice(0, 2)).toEqual([".", ".."]);
    expect(seen.slice(2).sort()).toEqual(readdirSync(hostRoot).sort());

    dir.seek(resumeAt, SEEK_SET);
    const resumed = parseDirents(buffer, dir.getdents64(buffer));
    expect(resumed[0].name).toBe(first[3].name);
    dir.decRef();
  });
});
