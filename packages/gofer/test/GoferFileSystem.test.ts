import { execFileSync } from "node:child_process";
import * as hostFs from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Errno, SyscallError } from "@sandbox/abi";
import {
  AT_SYMLINK_NOFOLLOW,
  type FsContext,
  O_CREAT,
  O_DIRECTORY,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  S_IFCHR,
  S_IFIFO,
  S_IFMT,
  S_IFSOCK,
  VirtualFileSystem,
} from "@sandbox/vfs";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { GoferInode } from "../src/client/GoferInode";
import { bundleProgram, type GoferProgram, isRunning, type RunningGofer, startGofer } from "./goferHarness";

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

function nanos(time: { sec: number; nsec: number }): bigint {
  return BigInt(time.sec) * 1_000_000_000n + BigInt(time.nsec);
}

/** Walks `path` (relative, "/"-separated) from the root without following symbolic links. */
function walk(gofer: RunningGofer, path: string): GoferInode | undefined {
  let inode = gofer.fs.root() as GoferInode | undefined;
  for (const name of path.split("/").filter((part) => part !== "")) {
    inode = inode?.lookup(name) as GoferInode | undefined;
  }
  return inode;
}

function readAll(vfs: VirtualFileSystem, ctx: FsContext, path: string): string {
  const file = vfs.openAt(ctx, undefined, path, O_RDONLY);
  try {
    const buffer = new Uint8Array(4096);
    const count = file.read(buffer);
    return Buffer.from(buffer.subarray(0, count)).toString();
  } finally {
    file.decRef();
  }
}

describe("GoferFileSystem", () => {
  let program: GoferProgram;
  let base: string;
  let root: string;
  let outside: string;
  let server: Server | undefined;
  const gofers: RunningGofer[] = [];

  beforeAll(async () => {
    program = await bundleProgram();
  });

  afterAll(() => {
    program?.remove();
  });

  beforeEach(async () => {
    base = hostFs.mkdtempSync(join(tmpdir(), "gofer-test-"));
    root = join(base, "root");
    outside = join(base, "outside");
    hostFs.mkdirSync(root);
    hostFs.mkdirSync(outside);
    hostFs.writeFileSync(join(outside, "secret"), "outside the root\n");

    hostFs.mkdirSync(join(root, "dir"));
    hostFs.mkdirSync(join(root, "dir", "sub"));
    hostFs.writeFileSync(join(root, "dir", "file"), "host contents\n");
    hostFs.linkSync(join(root, "dir", "file"), join(root, "hard"));
    hostFs.symlinkSync("dir/file", join(root, "link"));
    hostFs.symlinkSync("/dir", join(root, "absolute"));
    hostFs.symlinkSync("../outside/secret", join(root, "escape"));
    hostFs.symlinkSync(join(outside, "secret"), join(root, "absolute-escape"));
    hostFs.symlinkSync(outside, join(root, "outside-dir"));
    execFileSync("mkfifo", [join(root, "fifo")]);
    execFileSync("mknod", [join(root, "null"), "c", "1", "3"]);
    server = createServer();
    await new Promise<void>((resolve) => server?.listen(join(root, "socket"), resolve));
  });

  afterEach(async () => {
    for (const gofer of gofers.splice(0)) {
      gofer.process.kill();
      await gofer.process.exited;
    }
    if (server !== undefined) {
      await new Promise<void>((resolve) => server?.close(() => resolve()));
      server = undefined;
    }
    hostFs.rmSync(base, { recursive: true, force: true });
  });

  function start(readOnly: boolean, cache = false): RunningGofer {
    const gofer = startGofer(program, root, readOnly, 99, cache);
    gofers.push(gofer);
    return gofer;
  }

  function mountVfs(gofer: RunningGofer): { vfs: VirtualFileSystem; ctx: FsContext } {
    const vfs = new VirtualFileSystem();
    vfs.mountRoot(gofer.fs);
    return { vfs, ctx: vfs.newContext() };
  }

  it("reports the attributes lstat reports", () => {
    const gofer = start(true);
    for (const path of ["", "dir", "dir/file", "dir/sub", "hard", "link", "absolute", "escape", "fifo", "null", "socket"]) {
      const inode = walk(gofer, path);
      expect({ path, found: inode !== undefined }).toEqual({ path, found: true });
      const stat = inode!.stat();
      const host = hostFs.lstatSync(join(root, path), { bigint: true });
      expect({ path, ino: stat.ino }).toEqual({ path, ino: Number(host.ino) });
      expect({ path, mode: stat.mode }).toEqual({ path, mode: Number(host.mode) });
      expect({ path, nlink: stat.nlink }).toEqual({ path, nlink: Number(host.nlink) });
      expect({ path, uid: stat.uid, gid: stat.gid }).toEqual({ path, uid: Number(host.uid), gid: Number(host.gid) });
      expect({ path, size: stat.size, blocks: stat.blocks }).toEqual({ path, size: Number(host.size), blocks: Number(host.blocks) });
      expect({ path, rdev: stat.rdev }).toEqual({ path, rdev: Number(host.rdev) });
      expect({ path, mtime: nanos(stat.mtime) }).toEqual({ path, mtime: host.mtimeNs });
      expect({ path, ctime: nanos(stat.ctime) }).toEqual({ path, ctime: host.ctimeNs });
      expect({ path, atime: nanos(stat.atime) }).toEqual({ path, atime: host.atimeNs });
      expect(stat.dev).toBe(gofer.fs.dev);
      expect({ path, mode: inode!.mode, ino: inode!.ino }).toEqual({ path, mode: stat.mode, ino: stat.ino });
    }
    expect(walk(gofer, "missing")).toBeUndefined();
    expect(walk(gofer, "dir/missing")).toBeUndefined();
  });

  it("reads files through received descriptors", () => {
    const gofer = start(true);
    const { vfs, ctx } = mountVfs(gofer);
    expect(readAll(vfs, ctx, "/absolute/file")).toBe("host contents\n");
    expect(readAll(vfs, ctx, "/link")).toBe("host contents\n");

    const file = vfs.openAt(ctx, undefined, "/hard", O_RDONLY);
    const hostFd = file.impl.hostFd;
    expect(hostFd).toBeGreaterThanOrEqual(0);
    expect(hostFs.readlinkSync(`/proc/self/fd/${hostFd}`)).toBe(join(root, "dir", "file"));
    const stat = file.stat();
    expect(stat.ino).toBe(Number(hostFs.statSync(join(root, "hard")).ino));
    expect(stat.dev).toBe(gofer.fs.dev);
    const partial = new Uint8Array(8);
    expect(file.pread(partial, 5)).toBe(8);
    expect(Buffer.from(partial).toString()).toBe("contents");
    file.decRef();
    expect(() => hostFs.fstatSync(hostFd!)).toThrow();

    expect(vfs.readlinkAt(ctx, undefined, "/link")).toBe("dir/file");
    expect(vfs.readlinkAt(ctx, undefined, "/absolute")).toBe("/dir");
    expect(errnoOf(() => walk(gofer, "dir")!.readlink())).toBe(Errno.EINVAL);
  });

  it("lists entries in the host's getdents order", () => {
    const many = join(root, "many");
    hostFs.mkdirSync(many);
    // 300 names of 200 bytes do not fit one 32 KiB READDIR chunk.
    for (let i = 0; i < 300; i++) {
      hostFs.writeFileSync(join(many, `${String(i).padStart(3, "0")}-${"x".repeat(196)}`), "");
    }
    hostFs.writeFileSync(Buffer.concat([Buffer.from(`${many}/`), Buffer.from([0x66, 0xff, 0xc3])]), "bytes");
    const gofer = start(true);
    const { vfs, ctx } = mountVfs(gofer);

    for (const path of ["", "many", "dir"]) {
      const hostDir = hostFs.opendirSync(join(root, path), { encoding: "latin1" });
      const hostOrder: string[] = [];
      for (let entry = hostDir.readSync(); entry !== null; entry = hostDir.readSync()) {
        hostOrder.push(entry.name);
      }
      hostDir.closeSync();
      const lsOrder = execFileSync("ls", ["-U", "-1", "-A", "--quoting-style=literal", join(root, path)], { encoding: "latin1" })
        .split("\n")
        .filter((line) => line !== "");

      const dir = vfs.openAt(ctx, undefined, `/${path}`, O_RDONLY | O_DIRECTORY);
      const names: string[] = [];
      const inos = new Map<string, number>();
      dir.readdir((name, ino) => {
        names.push(name);
        inos.set(name, ino);
        return true;
      });
      dir.decRef();

      expect({ path, names: names.slice(2) }).toEqual({ path, names: hostOrder });
      expect({ path, names: names.slice(2) }).toEqual({ path, names: lsOrder });
      expect(names.slice(0, 2)).toEqual([".", ".."]);
      for (const name of hostOrder.slice(0, 5)) {
        const hostIno = Number(hostFs.lstatSync(Buffer.from(`${join(root, path)}/${name}`, "latin1")).ino);
        expect({ name, ino: inos.get(name) }).toEqual({ name, ino: hostIno });
      }
    }
    expect(vfs.statAt(ctx, undefined, `/many/${Buffer.from([0x66, 0xff, 0xc3]).toString("latin1")}`).size).toBe(5);
  });

  it("keeps symbolic links inside the root", () => {
    const gofer = start(true);
    const { vfs, ctx } = mountVfs(gofer);
    expect(errnoOf(() => vfs.openAt(ctx, undefined, "/escape", O_RDONLY))).toBe(Errno.ENOENT);
    expect(errnoOf(() => vfs.openAt(ctx, undefined, "/absolute-escape", O_RDONLY))).toBe(Errno.ENOENT);
    expect(errnoOf(() => vfs.statAt(ctx, undefined, "/outside-dir/secret"))).toBe(Errno.ENOENT);
    expect(errnoOf(() => vfs.statAt(ctx, undefined, "/../outside/secret"))).toBe(Errno.ENOENT);

    // The gofer itself never resolves a link, "..", or a path with "/" from a client.
    const rootInode = gofer.fs.root();
    const outsideLink = rootInode.lookup("outside-dir");
    expect(outsideLink).toBeDefined();
    expect(errnoOf(() => outsideLink!.lookup("secret"))).toBe(Errno.ENOTDIR);
    expect(errnoOf(() => rootInode.lookup(".."))).toBe(Errno.EINVAL);
    expect(errnoOf(() => rootInode.lookup("."))).toBe(Errno.EINVAL);
    expect(errnoOf(() => rootInode.lookup("dir/file"))).toBe(Errno.EINVAL);
    expect(errnoOf(() => rootInode.lookup("../outside"))).toBe(Errno.EINVAL);
    expect(errnoOf(() => rootInode.lookup("x".repeat(256)))).toBe(Errno.ENAMETOOLONG);
    expect(errnoOf(() => walk(gofer, "escape")!.open(O_RDONLY))).toBe(Errno.ELOOP);
  });

  it("never opens FIFOs, sockets or device nodes", () => {
    const gofer = start(false);
    const { vfs, ctx } = mountVfs(gofer);
    expect(errnoOf(() => vfs.openAt(ctx, undefined, "/fifo", O_RDONLY))).toBe(Errno.EACCES);
    expect(errnoOf(() => vfs.openAt(ctx, undefined, "/fifo", O_WRONLY))).toBe(Errno.EACCES);
    expect(errnoOf(() => vfs.openAt(ctx, undefined, "/null", O_RDWR))).toBe(Errno.EACCES);
    expect(errnoOf(() => vfs.openAt(ctx, undefined, "/socket", O_RDONLY))).toBe(Errno.ENXIO);
    expect(vfs.statAt(ctx, undefined, "/fifo").mode & S_IFMT).toBe(S_IFIFO);
    expect(vfs.statAt(ctx, undefined, "/null").mode & S_IFMT).toBe(S_IFCHR);
    expect(vfs.statAt(ctx, undefined, "/socket").mode & S_IFMT).toBe(S_IFSOCK);
    expect(errnoOf(() => gofer.fs.root().mknod("fifo-2", S_IFIFO | 0o644, 0, { uid: 0, gid: 0 }))).toBe(Errno.EPERM);
    expect(hostFs.existsSync(join(root, "fifo-2"))).toBe(false);
  });

  it("writes changes of a writable mount to the host", () => {
    const gofer = start(false);
    expect(gofer.fs.readOnly).toBe(false);
    const { vfs, ctx } = mountVfs(gofer);

    const file = vfs.openAt(ctx, undefined, "/dir/new", O_CREAT | O_RDWR, 0o640);
    expect(file.write(new TextEncoder().encode("written in the sandbox\n"))).toBe(23);
    file.truncate(7);
    file.decRef();
    expect(hostFs.readFileSync(join(root, "dir", "new"), "utf8")).toBe("written");
    expect(hostFs.statSync(join(root, "dir", "new")).mode & 0o7777).toBe(0o640);

    vfs.mkdirAt(ctx, undefined, "/made", 0o750);
    expect(hostFs.statSync(join(root, "made")).mode & 0o7777).toBe(0o750);
    vfs.symlinkAt(ctx, "dir/new", undefined, "/made/link");
    expect(hostFs.readlinkSync(join(root, "made", "link"))).toBe("dir/new");
    vfs.linkAt(ctx, undefined, "/dir/new", undefined, "/made/hard", 0);
    expect(hostFs.statSync(join(root, "made", "hard")).ino).toBe(hostFs.statSync(join(root, "dir", "new")).ino);
    vfs.renameAt(ctx, undefined, "/made/hard", undefined, "/moved");
    expect(hostFs.existsSync(join(root, "made", "hard"))).toBe(false);
    expect(hostFs.readFileSync(join(root, "moved"), "utf8")).toBe("written");
    vfs.chmodAt(ctx, undefined, "/moved", 0o604);
    expect(hostFs.statSync(join(root, "moved")).mode & 0o7777).toBe(0o604);
    vfs.truncateAt(ctx, undefined, "/moved", 3);
    expect(hostFs.readFileSync(join(root, "moved"), "utf8")).toBe("wri");
    vfs.unlinkAt(ctx, undefined, "/moved");
    expect(hostFs.existsSync(join(root, "moved"))).toBe(false);
    vfs.unlinkAt(ctx, undefined, "/made/link");
    vfs.rmdirAt(ctx, undefined, "/made");
    expect(hostFs.existsSync(join(root, "made"))).toBe(false);
    expect(errnoOf(() => vfs.rmdirAt(ctx, undefined, "/dir"))).toBe(Errno.ENOTEMPTY);

    const rootInode = gofer.fs.root();
    const owned = rootInode.create("owned", 0o6755, { uid: 1234, gid: 5678 });
    const ownedHost = hostFs.lstatSync(join(root, "owned"));
    expect({ uid: ownedHost.uid, gid: ownedHost.gid, mode: ownedHost.mode & 0o7777 }).toEqual({ uid: 1234, gid: 5678, mode: 0o6755 });
    expect({ uid: owned.uid, gid: owned.gid }).toEqual({ uid: 1234, gid: 5678 });
    owned.setattr({ uid: 42, mtime: { sec: 1_000_000, nsec: 5 }, atime: { sec: 2_000_000, nsec: 7 } });
    const changed = hostFs.lstatSync(join(root, "owned"), { bigint: true });
    expect({ uid: changed.uid, gid: changed.gid }).toEqual({ uid: 42n, gid: 5678n });
    expect(changed.mtimeNs).toBe(1_000_000_000_000_005n);
    expect(changed.atimeNs).toBe(2_000_000_000_000_007n);
    expect(owned.uid).toBe(42);
    rootInode.symlink("owned-link", "owned", { uid: 77, gid: 88 });
    expect(hostFs.lstatSync(join(root, "owned-link")).uid).toBe(77);
    expect(errnoOf(() => rootInode.create("owned", 0o644, { uid: 0, gid: 0 }))).toBe(Errno.EEXIST);
    expect(errnoOf(() => rootInode.rename("owned", rootInode, "dir", 1))).toBe(Errno.EEXIST);
  });

  it("rejects every change on a read-only mount", () => {
    const gofer = start(true);
    expect(gofer.fs.readOnly).toBe(true);
    const { vfs, ctx } = mountVfs(gofer);
    expect(errnoOf(() => vfs.openAt(ctx, undefined, "/dir/file", O_WRONLY))).toBe(Errno.EROFS);
    expect(errnoOf(() => vfs.mkdirAt(ctx, undefined, "/new", 0o755))).toBe(Errno.EROFS);

    const rootInode = gofer.fs.root();
    const dir = rootInode.lookup("dir")!;
    const owner = { uid: 0, gid: 0 };
    expect(errnoOf(() => walk(gofer, "dir/file")!.open(O_RDWR))).toBe(Errno.EROFS);
    expect(errnoOf(() => rootInode.create("x", 0o644, owner))).toBe(Errno.EROFS);
    expect(errnoOf(() => rootInode.mkdir("x", 0o755, owner))).toBe(Errno.EROFS);
    expect(errnoOf(() => rootInode.symlink("x", "y", owner))).toBe(Errno.EROFS);
    expect(errnoOf(() => rootInode.link("x", walk(gofer, "hard")!))).toBe(Errno.EROFS);
    expect(errnoOf(() => rootInode.unlink("hard"))).toBe(Errno.EROFS);
    expect(errnoOf(() => rootInode.rmdir("dir"))).toBe(Errno.EROFS);
    expect(errnoOf(() => rootInode.rename("hard", dir, "x", 0))).toBe(Errno.EROFS);
    expect(errnoOf(() => dir.setattr({ mode: 0o700 }))).toBe(Errno.EROFS);
    expect(hostFs.readdirSync(root).sort()).toEqual(
      ["absolute", "absolute-escape", "dir", "escape", "fifo", "hard", "link", "null", "outside-dir", "socket"].sort(),
    );
    expect(hostFs.statSync(join(root, "dir")).mode & 0o7777).toBe(0o755);
  });

  it("caching mount ignores later host changes", () => {
    const cached = mountVfs(start(true, true));
    const plain = mountVfs(start(true));
    for (const { vfs, ctx } of [cached, plain]) {
      expect(readAll(vfs, ctx, "/link")).toBe("host contents\n");
      expect(errnoOf(() => vfs.statAt(ctx, undefined, "/dir/missing"))).toBe(Errno.ENOENT);
      expect(vfs.statAt(ctx, undefined, "/dir/file").size).toBe(14);
    }
    // The host tree changes behind the sandbox's back.
    hostFs.rmSync(join(root, "link"));
    hostFs.symlinkSync("hard", join(root, "link"));
    hostFs.writeFileSync(join(root, "dir", "missing"), "new\n");
    hostFs.writeFileSync(join(root, "dir", "file"), "longer host contents\n");

    // The caching mount still returns the old link target, missing name and size...
    expect(cached.vfs.readlinkAt(cached.ctx, undefined, "/link")).toBe("dir/file");
    expect(errnoOf(() => cached.vfs.statAt(cached.ctx, undefined, "/dir/missing"))).toBe(Errno.ENOENT);
    expect(cached.vfs.statAt(cached.ctx, undefined, "/dir/file").size).toBe(14);
    // ...and the other mount returns every change.
    expect(plain.vfs.readlinkAt(plain.ctx, undefined, "/link")).toBe("hard");
    expect(plain.vfs.statAt(plain.ctx, undefined, "/dir/missing").size).toBe(4);
    expect(plain.vfs.statAt(plain.ctx, undefined, "/dir/file").size).toBe(21);
  });

  it("answers lookups in a listed directory of a caching mount from the listing", () => {
    const { vfs, ctx } = mountVfs(start(true, true));
    const directory = vfs.openAt(ctx, undefined, "/dir", O_RDONLY | O_DIRECTORY);
    const names: string[] = [];
    directory.readdir((name) => {
      names.push(name);
      return true;
    });
    directory.decRef();
    expect(names.sort()).toEqual([".", "..", "file", "sub"]);
    // Behind the sandbox's back: a new name appears, a listed file gets longer.
    hostFs.writeFileSync(join(root, "dir", "new"), "new\n");
    hostFs.writeFileSync(join(root, "dir", "file"), "longer host contents\n");
    expect(errnoOf(() => vfs.statAt(ctx, undefined, "/dir/new"))).toBe(Errno.ENOENT);
    expect(vfs.statAt(ctx, undefined, "/dir/file").size).toBe(14);
    expect(vfs.statAt(ctx, undefined, "/dir/sub").mode & S_IFMT).toBe(0o040000);
    // Opening a listed file walks to it then.
    expect(readAll(vfs, ctx, "/dir/file")).toBe("longer host contents\n");
  });

  it("lists the attributes lstat reports", () => {
    // A time before 1970 has negative seconds on the wire.
    hostFs.utimesSync(join(root, "dir", "file"), new Date(-1_500_250), new Date(-86_400_750));
    const gofer = start(true, true);
    const { vfs, ctx } = mountVfs(gofer);
    const names: string[] = [];
    for (const path of ["", "dir"]) {
      const directory = vfs.openAt(ctx, undefined, `/${path}`, O_RDONLY | O_DIRECTORY);
      directory.readdir((name) => {
        if (name !== "." && name !== "..") names.push(path === "" ? name : `${path}/${name}`);
        return true;
      });
      directory.decRef();
    }
    expect(names).toContain("dir/file");
    for (const name of names) {
      const stat = vfs.statAt(ctx, undefined, `/${name}`, AT_SYMLINK_NOFOLLOW);
      const host = hostFs.lstatSync(join(root, name), { bigint: true });
      expect({ name, ino: stat.ino, mode: stat.mode, nlink: stat.nlink }).toEqual({ name, ino: Number(host.ino), mode: Number(host.mode), nlink: Number(host.nlink) });
      expect({ name, size: stat.size, blocks: stat.blocks, rdev: stat.rdev }).toEqual({ name, size: Number(host.size), blocks: Number(host.blocks), rdev: Number(host.rdev) });
      expect({ name, times: [nanos(stat.mtime), nanos(stat.ctime)] }).toEqual({ name, times: [host.mtimeNs, host.ctimeNs] });
      // Listing a directory moves its atime on, after the caching mount saw it.
      if (!host.isDirectory()) expect({ name, atime: nanos(stat.atime) }).toEqual({ name, atime: host.atimeNs });
    }
    const file = vfs.statAt(ctx, undefined, "/dir/file", AT_SYMLINK_NOFOLLOW);
    expect(file.mtime).toEqual({ sec: -86_401, nsec: 250_000_000 });
    expect(file.atime).toEqual({ sec: -1_501, nsec: 750_000_000 });
  });

  it("looks up, lists and reads links of a caching mount in the Sentry", () => {
    hostFs.mkdirSync(join(root, "dir", "sub", "deep"), { recursive: true });
    hostFs.writeFileSync(join(root, "dir", "sub", "deep", "leaf"), "leaf contents\n");
    // A name that is not UTF-8, which the sandbox shows one character per byte.
    hostFs.symlinkSync("dir/file", Buffer.concat([Buffer.from(root + "/caf"), Buffer.from([0xe9])]));
    const gofer = start(true, true);
    const { vfs, ctx } = mountVfs(gofer);
    const before = gofer.fs.connection.requestCount;
    expect(readAll(vfs, ctx, "/dir/sub/deep/leaf")).toBe("leaf contents\n");
    expect(vfs.readlinkAt(ctx, undefined, "/link")).toBe("dir/file");
    expect(vfs.readlinkAt(ctx, undefined, "/caf\u00e9")).toBe("dir/file");
    expect(errnoOf(() => vfs.statAt(ctx, undefined, "/dir/missing"))).toBe(Errno.ENOENT);
    const directory = vfs.openAt(ctx, undefined, "/dir/sub", O_RDONLY | O_DIRECTORY);
    const names: string[] = [];
    directory.readdir((name) => {
      names.push(name);
      return true;
    });
    directory.decRef();
    expect(names.sort()).toEqual([".", "..", "deep"]);
    // One open of each directory on the way and one of the file: fstatat,
    // getdents64 and readlinkat on those descriptors serve the rest, with
    // no WALK of each name.
    expect(gofer.fs.connection.requestCount - before).toBeLessThanOrEqual(5);
    // The results are the host's, and special files found this way are still never opened.
    const host = hostFs.lstatSync(join(root, "dir", "sub", "deep", "leaf"), { bigint: true });
    expect(vfs.statAt(ctx, undefined, "/dir/sub/deep/leaf").ino).toBe(Number(host.ino));
    expect(errnoOf(() => vfs.openAt(ctx, undefined, "/fifo", O_RDONLY))).toBe(Errno.EACCES);
    expect(errnoOf(() => vfs.openAt(ctx, undefined, "/null", O_RDONLY))).toBe(Errno.EACCES);
    expect(errnoOf(() => vfs.openAt(ctx, undefined, "/socket", O_RDONLY))).toBe(Errno.ENXIO);
  });

  it("shares one host descriptor among read-only opens on a caching mount", () => {
    const gofer = start(true, true);
    expect(gofer.fs.cached).toBe(true);
    const inode = walk(gofer, "dir/file")!;
    const first = inode.open(O_RDONLY);
    const second = inode.open(O_RDONLY);
    expect(second.hostFd).toBe(first.hostFd);
    first.release();
    const buffer = new Uint8Array(64);
    expect(Buffer.from(buffer.subarray(0, second.read(buffer, 0))).toString()).toBe("host contents\n");
    second.release();
    // The mount keeps the descriptor for the next open.
    const third = inode.open(O_RDONLY);
    expect(third.hostFd).toBe(first.hostFd);
    expect(Buffer.from(buffer.subarray(0, third.read(buffer, 5))).toString()).toBe("contents\n");
    third.release();
    // Its files name their content; a writable mount neither caches nor names it.
    const named = walk(gofer, "dir/file")!.open(O_RDONLY);
    expect(named.contentKey).toBe(inode);
    named.release();
    const writable = start(false, true);
    expect(writable.fs.cached).toBe(false);
    const own = walk(writable, "dir/file")!;
    const a = own.open(O_RDONLY);
    const b = own.open(O_RDONLY);
    expect(b.hostFd).not.toBe(a.hostFd);
    expect(a.contentKey).toBeUndefined();
    a.release();
    b.release();
  });

  it("reports statfs of the host file system", () => {
    const gofer = start(true);
    const statfs = gofer.fs.statfs();
    const host = hostFs.statfsSync(root);
    expect(statfs.type).toBe(host.type);
    expect(statfs.bsize).toBe(host.bsize);
    expect(statfs.blocks).toBe(host.blocks);
    expect(statfs.files).toBe(host.files);
    expect(statfs.namelen).toBeGreaterThan(0);
  });

  it("fails with EIO after the gofer is killed", async () => {
    const gofer = start(false);
    const { vfs, ctx } = mountVfs(gofer);
    const open = vfs.openAt(ctx, undefined, "/dir/file", O_RDONLY);
    const dir = walk(gofer, "dir")!;

    gofer.process.kill("SIGKILL");
    const exit = await gofer.process.exited;
    expect(exit.signal).toBe("SIGKILL");
    expect(isRunning(gofer.process.pid)).toBe(false);

    expect(errnoOf(() => dir.stat())).toBe(Errno.EIO);
    expect(errnoOf(() => dir.lookup("file"))).toBe(Errno.EIO);
    expect(errnoOf(() => vfs.statAt(ctx, undefined, "/hard"))).toBe(Errno.EIO);
    expect(errnoOf(() => gofer.fs.root().create("x", 0o644, { uid: 0, gid: 0 }))).toBe(Errno.EIO);
    expect(gofer.fs.connection.connected).toBe(false);

    // A file opened before keeps its host descriptor.
    const buffer = new Uint8Array(4);
    expect(open.read(buffer)).toBe(4);
    open.decRef();
  });

  it("exits when the connection closes", async () => {
    const gofer = start(true);
    const pid = gofer.process.pid;
    expect(isRunning(pid)).toBe(true);
    const exit = await gofer.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(isRunning(pid)).toBe(false);
    expect(errnoOf(() => gofer.fs.root().stat())).toBe(Errno.EIO);
  });
});
