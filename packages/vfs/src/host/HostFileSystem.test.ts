import * as hostFs from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { Errno, SyscallError } from "@sandbox/abi";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AT_SYMLINK_NOFOLLOW, O_CREAT, O_DIRECTORY, O_RDONLY, O_WRONLY, SEEK_SET } from "../constants";
import { DIRENT64_NAME, DIRENT64_OFF, DIRENT64_RECLEN } from "../dirent";
import type { FileDescription } from "../FileDescription";
import type { FsContext } from "../operations/context";
import { TmpFileSystem } from "../tmpfs/TmpFileSystem";
import { VirtualFileSystem } from "../VirtualFileSystem";
import { HostFileSystem } from "./HostFileSystem";

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

/** Reads every record of `dir` through getdents64 with a buffer of `size` bytes, as [name, d_off] pairs. */
function getdentsAll(dir: FileDescription, size: number): [string, number][] {
  const buffer = new Uint8Array(size);
  const view = new DataView(buffer.buffer);
  const records: [string, number][] = [];
  for (;;) {
    const used = dir.getdents64(buffer);
    if (used === 0) {
      return records;
    }
    for (let offset = 0; offset < used; offset += view.getUint16(offset + DIRENT64_RECLEN, true)) {
      const nameStart = offset + DIRENT64_NAME;
      const nameEnd = buffer.indexOf(0, nameStart);
      const name = Buffer.from(buffer.subarray(nameStart, nameEnd)).toString("latin1");
      records.push([name, Number(view.getBigInt64(offset + DIRENT64_OFF, true))]);
    }
  }
}

function nanos(time: { sec: number; nsec: number }): bigint {
  return BigInt(time.sec) * 1_000_000_000n + BigInt(time.nsec);
}

describe("HostFileSystem", () => {
  let hostRoot: string;
  let vfs: VirtualFileSystem;
  let ctx: FsContext;
  let fs: HostFileSystem;
  let server: Server | undefined;

  beforeEach(() => {
    hostRoot = hostFs.mkdtempSync(join(tmpdir(), "vfs-hostfs-"));
    hostFs.mkdirSync(join(hostRoot, "dir"));
    hostFs.writeFileSync(join(hostRoot, "dir", "file"), "host contents\n");
    hostFs.linkSync(join(hostRoot, "dir", "file"), join(hostRoot, "hard"));
    hostFs.symlinkSync("dir/file", join(hostRoot, "link"));
    hostFs.symlinkSync("/dir", join(hostRoot, "absolute"));
    vfs = new VirtualFileSystem();
    fs = new HostFileSystem(hostRoot, { dev: vfs.allocateDevice() });
    vfs.mountRoot(fs);
    ctx = vfs.newContext();
  });

  afterEach(async () => {
    if (server !== undefined) {
      await new Promise<void>((resolve) => server?.close(() => resolve()));
      server = undefined;
    }
    hostFs.rmSync(hostRoot, { recursive: true, force: true });
  });

  it("reports the attributes Linux reports", () => {
    for (const [path, follow] of [
      ["dir", true],
      ["dir/file", true],
      ["hard", true],
      ["link", false],
      ["link", true],
      ["", true],
    ] as const) {
      const host = follow
        ? hostFs.statSync(join(hostRoot, path), { bigint: true })
        : hostFs.lstatSync(join(hostRoot, path), { bigint: true });
      const stat = vfs.statAt(ctx, undefined, `/${path}`, follow ? 0 : AT_SYMLINK_NOFOLLOW);
      expect({ path, ino: stat.ino }).toEqual({ path, ino: Number(host.ino) });
      expect({ path, mode: stat.mode }).toEqual({ path, mode: Number(host.mode) });
      expect({ path, nlink: stat.nlink }).toEqual({ path, nlink: Number(host.nlink) });
      expect({ path, size: stat.size }).toEqual({ path, size: Number(host.size) });
      expect({ path, uid: stat.uid, gid: stat.gid }).toEqual({ path, uid: Number(host.uid), gid: Number(host.gid) });
      expect({ path, blocks: stat.blocks }).toEqual({ path, blocks: Number(host.blocks) });
      expect({ path, mtime: nanos(stat.mtime) }).toEqual({ path, mtime: host.mtimeNs });
      expect({ path, ctime: nanos(stat.ctime) }).toEqual({ path, ctime: host.ctimeNs });
      expect(stat.dev).toBe(fs.dev);
    }
  });

  it("reads files and links", () => {
    const file = vfs.openAt(ctx, undefined, "/absolute/file", O_RDONLY);
    const buffer = new Uint8Array(64);
    const count = file.read(buffer);
    expect(Buffer.from(buffer.subarray(0, count)).toString()).toBe("host contents\n");
    expect(file.impl.hostFd).toBeGreaterThanOrEqual(0);
    expect(file.stat().ino).toBe(Number(hostFs.statSync(join(hostRoot, "hard")).ino));
    file.decRef();

    expect(vfs.readlinkAt(ctx, undefined, "/link")).toBe(hostFs.readlinkSync(join(hostRoot, "link")));
    expect(vfs.readlinkAt(ctx, undefined, "/absolute")).toBe("/dir");
  });

  it("fails every write with EROFS", () => {
    expect(errnoOf(() => vfs.openAt(ctx, undefined, "/dir/file", O_WRONLY))).toBe(Errno.EROFS);
    expect(errnoOf(() => vfs.openAt(ctx, undefined, "/new", O_CREAT | O_WRONLY))).toBe(Errno.EROFS);
    expect(errnoOf(() => vfs.mkdirAt(ctx, undefined, "/new", 0o755))).toBe(Errno.EROFS);
    expect(errnoOf(() => vfs.unlinkAt(ctx, undefined, "/hard"))).toBe(Errno.EROFS);
    expect(errnoOf(() => vfs.renameAt(ctx, undefined, "/hard", undefined, "/x"))).toBe(Errno.EROFS);
    expect(errnoOf(() => vfs.chmodAt(ctx, undefined, "/hard", 0o600))).toBe(Errno.EROFS);
    const root = fs.root();
    expect(errnoOf(() => root.create("x", 0o644, { uid: 0, gid: 0 }))).toBe(Errno.EROFS);
    expect(errnoOf(() => root.open(O_WRONLY))).toBe(Errno.EROFS);
    expect(hostFs.readdirSync(hostRoot).sort()).toEqual(["absolute", "dir", "hard", "link"]);
  });

  it("never opens host devices, FIFOs or sockets", async () => {
    execFileSync("mkfifo", [join(hostRoot, "fifo")]);
    server = createServer();
    await new Promise<void>((resolve) => server?.listen(join(hostRoot, "socket"), resolve));

    expect(errnoOf(() => vfs.openAt(ctx, undefined, "/fifo", O_RDONLY))).toBe(Errno.EACCES);
    expect(errnoOf(() => vfs.openAt(ctx, undefined, "/socket", O_RDONLY))).toBe(Errno.ENXIO);
    expect(vfs.statAt(ctx, undefined, "/fifo").mode & 0o170000).toBe(0o010000);
    expect(vfs.statAt(ctx, undefined, "/socket").mode & 0o170000).toBe(0o140000);

    const hostDev = new HostFileSystem("/dev", { dev: vfs.allocateDevice() });
    const null_ = hostDev.root().lookup("null");
    expect(null_).toBeDefined();
    expect(errnoOf(() => null_?.open(O_RDONLY))).toBe(Errno.EACCES);
    expect(null_?.stat().rdev).toBe(hostFs.statSync("/dev/null").rdev);
  });

  it("numbers files of other host devices apart", () => {
    const hostRootFs = new HostFileSystem("/", { dev: vfs.allocateDevice() });
    const dev = hostRootFs.root().lookup("dev");
    const rootIno = Number(hostFs.statSync("/").ino);
    expect(hostRootFs.root().ino).toBe(rootIno);
    if (hostFs.statSync("/dev").dev !== hostFs.statSync("/").dev) {
      expect(dev?.ino).toBeGreaterThanOrEqual(2 ** 52);
      expect(hostRootFs.root().lookup("dev")?.ino).toBe(dev?.ino);
    }
  });

  it("passes any byte in a name through", () => {
    const name = Buffer.from([0x66, 0xff, 0xc3]);
    hostFs.writeFileSync(Buffer.concat([Buffer.from(`${hostRoot}/dir/`), name]), "bytes");
    const dir = vfs.openAt(ctx, undefined, "/dir", O_RDONLY | O_DIRECTORY);
    const names: string[] = [];
    dir.readdir((entryName) => {
      names.push(entryName);
      return true;
    });
    dir.decRef();
    const latin1 = name.toString("latin1");
    expect(names.sort()).toEqual([".", "..", "file", latin1].sort());
    expect(vfs.statAt(ctx, undefined, `/dir/${latin1}`).size).toBe(5);
  });

  it("lists entries in the host's getdents order", () => {
    const many = join(hostRoot, "many");
    hostFs.mkdirSync(many);
    for (let i = 0; i < 300; i++) {
      hostFs.writeFileSync(join(many, `entry-${(i * 7919) % 1000}`), "");
    }
    const native = execFileSync("busybox", ["find", many, "-maxdepth", "1"], { encoding: "latin1" })
      .split("\n")
      .filter((line) => line.startsWith(`${many}/`))
      .map((line) => line.slice(many.length + 1));

    const dir = vfs.openAt(ctx, undefined, "/many", O_RDONLY | O_DIRECTORY);
    const listed = getdentsAll(dir, 4096).map(([name]) => name);
    dir.decRef();

    expect(listed.slice(0, 2)).toEqual([".", ".."]);
    expect(listed.slice(2)).toEqual(native);
    expect(native).not.toEqual([...native].sort());
  });

  it("keeps getdents64 cursors stable while the host changes", () => {
    const many = join(hostRoot, "many");
    hostFs.mkdirSync(many);
    for (let i = 0; i < 100; i++) {
      hostFs.writeFileSync(join(many, `f${i}`), "");
    }
    const dir = vfs.openAt(ctx, undefined, "/many", O_RDONLY | O_DIRECTORY);
    const first = getdentsAll(dir, 4096);

    dir.seek(0, SEEK_SET);
    const buffer = new Uint8Array(64);
    expect(dir.getdents64(buffer)).toBeGreaterThan(0);
    for (let i = 100; i < 150; i++) {
      hostFs.writeFileSync(join(many, `f${i}`), "");
    }
    dir.seek(first[10][1], SEEK_SET);
    const resumed = getdentsAll(dir, 100);
    dir.decRef();

    expect(resumed).toEqual(first.slice(11));
    expect(new Set(first.map(([name]) => name)).size).toBe(102);
  });

  it("sees changes made on the host", () => {
    const before = vfs.statAt(ctx, undefined, "/dir/file");
    hostFs.unlinkSync(join(hostRoot, "dir", "file"));
    expect(errnoOf(() => vfs.statAt(ctx, undefined, "/dir/file"))).toBe(Errno.ENOENT);
    hostFs.mkdirSync(join(hostRoot, "dir", "file"));
    const after = vfs.statAt(ctx, undefined, "/dir/file");
    expect(after.mode & 0o170000).toBe(0o040000);
    expect(after.ino).not.toBe(before.ino);
  });

  it("serves as the lower tree under a tmpfs mount", () => {
    const tmp = new TmpFileSystem({ dev: vfs.allocateDevice() });
    vfs.mount(ctx, "/dir", tmp);
    expect(errnoOf(() => vfs.statAt(ctx, undefined, "/dir/file"))).toBe(Errno.ENOENT);
    vfs.openAt(ctx, undefined, "/dir/written", O_CREAT | O_WRONLY, 0o644).decRef();
    expect(vfs.statAt(ctx, undefined, "/dir/written").dev).toBe(tmp.dev);
    expect(vfs.statAt(ctx, undefined, "/dir/../hard").dev).toBe(fs.dev);
    expect(hostFs.existsSync(join(hostRoot, "dir", "written"))).toBe(false);
  });

  it("rejects a host root that is not a directory", () => {
    expect(() => new HostFileSystem(join(hostRoot, "hard"), { dev: 1 })).toThrow(SyscallError);
    expect(() => new HostFileSystem(join(hostRoot, "missing"), { dev: 1 })).toThrow(SyscallError);
  });
});
