import * as hostFs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Errno, SyscallError } from "@sandbox/abi";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_NOFOLLOW,
  O_PATH,
  O_RDONLY,
  O_RDWR,
  O_TRUNC,
  O_WRONLY,
  S_IFMT,
} from "./constants";
import type { FsContext } from "./operations/context";
import { TmpFileSystem } from "./tmpfs/TmpFileSystem";
import { VirtualFileSystem } from "./VirtualFileSystem";

const errnoNames = new Map<number, string>(Object.entries(Errno).map(([name, value]) => [value, name]));

/** Runs `call` and returns "ok" plus its result if that is a string, or the name of the errno it failed with. */
function outcome(call: () => unknown): string {
  try {
    const detail = call();
    return typeof detail === "string" ? `ok ${detail}` : "ok";
  } catch (error) {
    if (error instanceof SyscallError) {
      return errnoNames.get(error.errno) ?? `errno ${error.errno}`;
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === "string") {
      return code;
    }
    throw error;
  }
}

/** The file system calls that the differential test runs on Linux and on the VFS. */
interface Calls {
  open(path: string, flags: number, mode?: number): void;
  mkdir(path: string, mode: number): void;
  rmdir(path: string): void;
  unlink(path: string): void;
  rename(from: string, to: string): void;
  link(from: string, to: string): void;
  symlink(target: string, path: string): void;
  readlink(path: string): string;
  stat(path: string): string;
  lstat(path: string): string;
  truncate(path: string, size: number): void;
}

function describeStat(stat: { mode: number; size: number; nlink: number }): string {
  const type = (stat.mode & S_IFMT).toString(8);
  const isDirectory = (stat.mode & S_IFMT) === 0o040000;
  // Directory sizes and link counts depend on the file system, so they are left out.
  return isDirectory ? `type ${type} mode ${(stat.mode & 0o7777).toString(8)}` : `type ${type} mode ${(stat.mode & 0o7777).toString(8)} size ${stat.size} nlink ${stat.nlink}`;
}

const hostCalls: Calls = {
  open: (path, flags, mode = 0o644) => hostFs.closeSync(hostFs.openSync(path, flags, mode)),
  mkdir: (path, mode) => hostFs.mkdirSync(path, mode),
  rmdir: (path) => hostFs.rmdirSync(path),
  unlink: (path) => hostFs.unlinkSync(path),
  rename: (from, to) => hostFs.renameSync(from, to),
  link: (from, to) => hostFs.linkSync(from, to),
  symlink: (target, path) => hostFs.symlinkSync(target, path),
  readlink: (path) => hostFs.readlinkSync(path),
  stat: (path) => describeStat(hostFs.statSync(path)),
  lstat: (path) => describeStat(hostFs.lstatSync(path)),
  truncate: (path, size) => hostFs.truncateSync(path, size),
};

function vfsCalls(vfs: VirtualFileSystem, ctx: FsContext): Calls {
  return {
    open: (path, flags, mode = 0o644) => vfs.openAt(ctx, undefined, path, flags, mode).decRef(),
    mkdir: (path, mode) => vfs.mkdirAt(ctx, undefined, path, mode),
    rmdir: (path) => vfs.rmdirAt(ctx, undefined, path),
    unlink: (path) => vfs.unlinkAt(ctx, undefined, path),
    rename: (from, to) => vfs.renameAt(ctx, undefined, from, undefined, to),
    link: (from, to) => vfs.linkAt(ctx, undefined, from, undefined, to),
    symlink: (target, path) => vfs.symlinkAt(ctx, target, undefined, path),
    readlink: (path) => vfs.readlinkAt(ctx, undefined, path),
    stat: (path) => describeStat(vfs.statAt(ctx, undefined, path)),
    lstat: (path) => describeStat(vfs.statAt(ctx, undefined, path, 0x100)),
    truncate: (path, size) => vfs.truncateAt(ctx, undefined, path, size),
  };
}

/** Builds the starting tree under `root` with `calls`. */
function buildTree(calls: Calls, root: string): void {
  calls.mkdir(`${root}/dir`, 0o755);
  calls.open(`${root}/dir/file`, O_CREAT | O_WRONLY, 0o644);
  calls.truncate(`${root}/dir/file`, 5);
  calls.mkdir(`${root}/dir/sub`, 0o755);
  calls.open(`${root}/dir/sub/inner`, O_CREAT | O_WRONLY, 0o600);
  calls.mkdir(`${root}/dir/empty`, 0o700);
  calls.symlink("dir/file", `${root}/link-file`);
  calls.symlink("dir", `${root}/link-dir`);
  calls.symlink("missing", `${root}/link-dangling`);
  calls.symlink("link-loop-b", `${root}/link-loop-a`);
  calls.symlink("link-loop-a", `${root}/link-loop-b`);
  calls.symlink(`${root}/dir/sub`, `${root}/link-absolute`);
  calls.symlink("dir/file/", `${root}/link-slash`);
  for (let i = 0; i < 41; i++) {
    calls.symlink(i === 40 ? "dir/file" : `chain${i + 1}`, `${root}/chain${i}`);
  }
}

/** Returns a path of exactly `length` bytes that names `root`/dir, padded with "./" components. */
function pathOfLength(root: string, length: number): string {
  const padding = length - root.length - "/dir".length;
  return `${root}/${"./".repeat(Math.floor(padding / 2))}${padding % 2 === 1 ? "/" : ""}dir`;
}

/** Returns the operations to run in order on both trees, each on the state that the ones before it left. */
function operations(root: string): [string, (calls: Calls) => string | void][] {
  const p = (relative: string) => `${root}/${relative}`;
  const long = "n".repeat(256);
  return [
    ["stat file", (c) => c.stat(p("dir/file"))],
    ["stat file/", (c) => c.stat(p("dir/file/"))],
    ["stat file/.", (c) => c.stat(p("dir/file/."))],
    ["stat file/..", (c) => c.stat(p("dir/file/.."))],
    ["stat dir/sub/..", (c) => c.stat(p("dir/sub/../file"))],
    ["stat link-file", (c) => c.stat(p("link-file"))],
    ["lstat link-file", (c) => c.lstat(p("link-file"))],
    ["lstat link-file/", (c) => c.lstat(p("link-file/"))],
    ["lstat link-dir/", (c) => c.lstat(p("link-dir/"))],
    ["stat link-dir/sub/inner", (c) => c.stat(p("link-dir/sub/inner"))],
    ["stat link-dir/..", (c) => c.stat(p("link-dir/../link-dir"))],
    ["stat link-absolute/inner", (c) => c.stat(p("link-absolute/inner"))],
    ["stat link-absolute/../file", (c) => c.stat(p("link-absolute/../file"))],
    ["stat link-slash", (c) => c.stat(p("link-slash"))],
    ["stat dangling", (c) => c.stat(p("link-dangling"))],
    ["lstat dangling", (c) => c.lstat(p("link-dangling"))],
    ["stat loop", (c) => c.stat(p("link-loop-a"))],
    ["lstat loop", (c) => c.lstat(p("link-loop-a"))],
    ["stat loop/x", (c) => c.stat(p("link-loop-a/x"))],
    ["stat chain of 40", (c) => c.stat(p("chain1"))],
    ["stat chain of 41", (c) => c.stat(p("chain0"))],
    ["stat long name", (c) => c.stat(p(long))],
    ["stat long path", (c) => c.stat(p(`${"./".repeat(2100)}dir`))],
    ["stat path of 4095 bytes", (c) => c.stat(pathOfLength(root, 4095))],
    ["stat path of 4096 bytes", (c) => c.stat(pathOfLength(root, 4096))],
    ["stat missing/x", (c) => c.stat(p("missing/x"))],
    ["readlink file", (c) => c.readlink(p("dir/file"))],
    ["readlink link", (c) => c.readlink(p("link-file"))],
    ["readlink link/", (c) => c.readlink(p("link-dir/"))],
    ["readlink missing", (c) => c.readlink(p("missing"))],
    ["open O_DIRECTORY file", (c) => c.open(p("dir/file"), O_RDONLY | O_DIRECTORY)],
    ["open O_DIRECTORY dir", (c) => c.open(p("dir"), O_RDONLY | O_DIRECTORY)],
    ["open O_WRONLY dir", (c) => c.open(p("dir"), O_WRONLY)],
    ["open O_RDONLY|O_TRUNC dir", (c) => c.open(p("dir"), O_RDONLY | O_TRUNC)],
    ["open O_NOFOLLOW link", (c) => c.open(p("link-file"), O_RDONLY | O_NOFOLLOW)],
    ["open O_NOFOLLOW link-dir/x", (c) => c.open(p("link-dir/file"), O_RDONLY | O_NOFOLLOW)],
    ["open O_PATH|O_NOFOLLOW link", (c) => c.open(p("link-file"), O_PATH | O_NOFOLLOW)],
    ["open O_CREAT|O_DIRECTORY", (c) => c.open(p("dir/new-dir"), O_CREAT | O_DIRECTORY | O_RDONLY)],
    ["open O_CREAT|O_EXCL existing", (c) => c.open(p("dir/file"), O_CREAT | O_EXCL | O_WRONLY)],
    ["open O_CREAT|O_EXCL dangling", (c) => c.open(p("link-dangling"), O_CREAT | O_EXCL | O_WRONLY)],
    ["open O_CREAT new/", (c) => c.open(p("dir/new/"), O_CREAT | O_WRONLY)],
    ["open O_CREAT dir/", (c) => c.open(p("dir/"), O_CREAT | O_RDONLY)],
    ["open O_CREAT .", (c) => c.open(p("dir/."), O_CREAT | O_RDONLY)],
    ["open O_CREAT existing dir", (c) => c.open(p("dir"), O_CREAT | O_RDONLY)],
    ["open O_CREAT link to dir", (c) => c.open(p("link-dir"), O_CREAT | O_RDONLY)],
    ["open O_DIRECTORY|O_NOFOLLOW link", (c) => c.open(p("link-dir"), O_DIRECTORY | O_NOFOLLOW | O_RDONLY)],
    ["open O_PATH|O_DIRECTORY|O_NOFOLLOW link", (c) => c.open(p("link-dir"), O_PATH | O_DIRECTORY | O_NOFOLLOW)],
    ["open O_PATH link to dir", (c) => c.open(p("link-dir"), O_PATH)],
    ["open O_CREAT in missing", (c) => c.open(p("nodir/x"), O_CREAT | O_WRONLY)],
    ["open O_CREAT under file", (c) => c.open(p("dir/file/x"), O_CREAT | O_WRONLY)],
    ["open O_CREAT long name", (c) => c.open(p(long), O_CREAT | O_WRONLY)],
    ["open O_CREAT dangling", (c) => c.open(p("link-dangling"), O_CREAT | O_WRONLY, 0o640)],
    ["stat created through link", (c) => c.stat(p("missing"))],
    ["open O_CREAT|O_NOFOLLOW link", (c) => c.open(p("link-file"), O_CREAT | O_NOFOLLOW | O_WRONLY)],
    ["open O_TRUNC", (c) => c.open(p("dir/file"), O_RDWR | O_TRUNC)],
    ["stat truncated", (c) => c.stat(p("dir/file"))],
    ["open O_CREAT mode", (c) => c.open(p("dir/created"), O_CREAT | O_WRONLY, 0o777)],
    ["stat created mode", (c) => c.stat(p("dir/created"))],
    ["mkdir existing", (c) => c.mkdir(p("dir"), 0o755)],
    ["mkdir dangling", (c) => c.mkdir(p("link-loop-a"), 0o755)],
    ["mkdir .", (c) => c.mkdir(p("dir/."), 0o755)],
    ["mkdir ..", (c) => c.mkdir(p("dir/.."), 0o755)],
    ["mkdir missing parent", (c) => c.mkdir(p("nodir/x"), 0o755)],
    ["mkdir under file", (c) => c.mkdir(p("dir/file/x"), 0o755)],
    ["mkdir trailing slash", (c) => c.mkdir(p("dir/made/"), 0o750)],
    ["stat made", (c) => c.stat(p("dir/made"))],
    ["mkdir long name", (c) => c.mkdir(p(long), 0o755)],
    ["mkdir special bits", (c) => c.mkdir(p("dir/special"), 0o7777)],
    ["stat special bits dir", (c) => c.stat(p("dir/special"))],
    ["open O_CREAT special bits", (c) => c.open(p("dir/special-file"), O_CREAT | O_WRONLY, 0o7777)],
    ["stat special bits file", (c) => c.stat(p("dir/special-file"))],
    ["rmdir non-empty", (c) => c.rmdir(p("dir/sub"))],
    ["rmdir file", (c) => c.rmdir(p("dir/file"))],
    ["rmdir .", (c) => c.rmdir(p("dir/empty/."))],
    ["rmdir ..", (c) => c.rmdir(p("dir/empty/.."))],
    ["rmdir link to dir", (c) => c.rmdir(p("link-dir"))],
    ["rmdir missing", (c) => c.rmdir(p("dir/missing"))],
    ["rmdir empty/", (c) => c.rmdir(p("dir/empty/"))],
    ["unlink dir", (c) => c.unlink(p("dir/sub"))],
    ["unlink file/", (c) => c.unlink(p("dir/created/"))],
    ["unlink dir/", (c) => c.unlink(p("dir/sub/"))],
    ["unlink missing", (c) => c.unlink(p("dir/missing"))],
    ["unlink link", (c) => c.unlink(p("link-file"))],
    ["stat target after unlink link", (c) => c.stat(p("dir/file"))],
    ["link dir", (c) => c.link(p("dir/sub"), p("sub-link"))],
    ["link existing", (c) => c.link(p("dir/file"), p("dir/created"))],
    ["link new", (c) => c.link(p("dir/file"), p("dir/file-2"))],
    ["stat linked", (c) => c.stat(p("dir/file"))],
    ["link symlink", (c) => c.link(p("link-dir"), p("link-dir-2"))],
    ["lstat linked symlink", (c) => c.lstat(p("link-dir-2"))],
    ["link new/", (c) => c.link(p("dir/file"), p("dir/file-3/"))],
    ["symlink existing", (c) => c.symlink("x", p("dir/file"))],
    ["symlink empty target", (c) => c.symlink("", p("empty-target"))],
    ["symlink new/", (c) => c.symlink("x", p("new-link/"))],
    ["rename file onto dir", (c) => c.rename(p("dir/file"), p("dir/made"))],
    ["rename dir onto file", (c) => c.rename(p("dir/made"), p("dir/file"))],
    ["rename dir onto non-empty", (c) => c.rename(p("dir/made"), p("dir/sub"))],
    ["rename dir into itself", (c) => c.rename(p("dir"), p("dir/sub/dir"))],
    ["rename file/", (c) => c.rename(p("dir/file/"), p("dir/renamed"))],
    ["rename to file/", (c) => c.rename(p("dir/file"), p("dir/renamed/"))],
    ["rename .", (c) => c.rename(p("dir/."), p("dir/renamed"))],
    ["rename hard links", (c) => c.rename(p("dir/file"), p("dir/file-2"))],
    ["stat after hard link rename", (c) => c.stat(p("dir/file"))],
    ["rename missing", (c) => c.rename(p("dir/missing"), p("dir/renamed"))],
    ["rename file over file", (c) => c.rename(p("dir/created"), p("dir/file-2"))],
    ["stat replaced", (c) => c.stat(p("dir/file"))],
    ["rename dir onto empty", (c) => c.rename(p("dir/made"), p("dir/sub2-missing"))],
    ["mkdir target", (c) => c.mkdir(p("dir/target"), 0o755)],
    ["rename dir over empty dir", (c) => c.rename(p("dir/sub2-missing"), p("dir/target"))],
    ["rename dir to parent", (c) => c.rename(p("dir/sub/inner"), p("inner"))],
    ["rename ancestor", (c) => c.rename(p("dir/target"), p("dir"))],
    ["truncate dir", (c) => c.truncate(p("dir"), 0)],
    ["truncate grow", (c) => c.truncate(p("inner"), 10000)],
    ["stat grown", (c) => c.stat(p("inner"))],
    ["truncate via link", (c) => c.truncate(p("link-dir/file"), 3)],
    ["stat truncated via link", (c) => c.stat(p("dir/file"))],
  ];
}

/** Lists every name under `root` with its attributes, for comparing the final trees. */
function listTree(calls: Calls, root: string, names: (path: string) => string[]): string[] {
  const lines: string[] = [];
  const visit = (path: string) => {
    for (const name of names(path).sort()) {
      const child = `${path}/${name}`;
      const description = calls.lstat(child);
      lines.push(`${child.slice(root.length)} ${description}`);
      if (description.startsWith("type 40000")) {
        visit(child);
      } else if (description.startsWith("type 120000")) {
        lines.push(`  -> ${calls.readlink(child)}`);
      }
    }
  };
  visit(root);
  return lines;
}

describe("VirtualFileSystem against Linux", () => {
  let hostRoot: string;
  let vfs: VirtualFileSystem;
  let ctx: FsContext;
  let previousUmask: number;

  beforeEach(() => {
    previousUmask = process.umask(0o022);
    hostRoot = hostFs.mkdtempSync(join(tmpdir(), "vfs-differential-"));
    vfs = new VirtualFileSystem();
    vfs.mountRoot(new TmpFileSystem({ dev: vfs.allocateDevice() }));
    ctx = vfs.newContext();
    let path = "";
    for (const part of hostRoot.split("/").filter((p) => p.length > 0)) {
      path += `/${part}`;
      vfs.mkdirAt(ctx, undefined, path, 0o755);
    }
  });

  afterEach(() => {
    hostFs.rmSync(hostRoot, { recursive: true, force: true });
    process.umask(previousUmask);
  });

  it("matches errors and results call by call", () => {
    const onVfs = vfsCalls(vfs, ctx);
    buildTree(hostCalls, hostRoot);
    buildTree(onVfs, hostRoot);

    for (const [name, operation] of operations(hostRoot)) {
      const expected = outcome(() => operation(hostCalls));
      const actual = outcome(() => operation(onVfs));
      expect({ name, result: actual }).toEqual({ name, result: expected });
    }

    const hostTree = listTree(hostCalls, hostRoot, (path) => hostFs.readdirSync(path));
    const vfsTree = listTree(onVfs, hostRoot, (path) => {
      const dir = vfs.openAt(ctx, undefined, path, O_RDONLY | O_DIRECTORY);
      const names: string[] = [];
      dir.readdir((name) => {
        if (name !== "." && name !== "..") {
          names.push(name);
        }
        return true;
      });
      dir.decRef();
      return names;
    });
    expect(vfsTree).toEqual(hostTree);
  });
});

describe("VirtualFileSystem", () => {
  function newVfs(): { vfs: VirtualFileSystem; ctx: FsContext } {
    const vfs = new VirtualFileSystem();
    vfs.mountRoot(new TmpFileSystem({ dev: vfs.allocateDevice(), mode: 0o755 }));
    return { vfs, ctx: vfs.newContext() };
  }

  it("crosses mounts in both directions", () => {
    const { vfs, ctx } = newVfs();
    vfs.mkdirAt(ctx, undefined, "/mnt", 0o755);
    vfs.mkdirAt(ctx, undefined, "/mnt/hidden", 0o755);
    const inner = new TmpFileSystem({ dev: vfs.allocateDevice() });
    vfs.mount(ctx, "/mnt", inner);
    vfs.mkdirAt(ctx, undefined, "/mnt/inside", 0o755);

    expect(vfs.statAt(ctx, undefined, "/mnt").dev).toBe(inner.dev);
    expect(vfs.statAt(ctx, undefined, "/mnt").ino).toBe(1);
    expect(outcome(() => vfs.statAt(ctx, undefined, "/mnt/hidden"))).toBe("ENOENT");
    expect(vfs.statAt(ctx, undefined, "/mnt/inside/../..").ino).toBe(vfs.statAt(ctx, undefined, "/").ino);
    expect(vfs.statAt(ctx, undefined, "/mnt/..").dev).toBe(vfs.rootMount.fs.dev);

    const cwd = vfs.resolveDirectory(ctx, undefined, "/mnt/inside");
    ctx.cwd = cwd;
    expect(vfs.getcwd(ctx)).toBe("/mnt/inside");
    expect(vfs.statAt(ctx, undefined, "../..").ino).toBe(vfs.statAt(ctx, undefined, "/").ino);
  });

  it("stacks mounts and unmounts them", () => {
    const { vfs, ctx } = newVfs();
    vfs.mkdirAt(ctx, undefined, "/mnt", 0o755);
    const first = new TmpFileSystem({ dev: vfs.allocateDevice() });
    const second = new TmpFileSystem({ dev: vfs.allocateDevice() });
    vfs.mount(ctx, "/mnt", first);
    vfs.mount(ctx, "/mnt", second);
    expect(vfs.statAt(ctx, undefined, "/mnt").dev).toBe(second.dev);
    expect(outcome(() => vfs.umount(ctx, "/"))).toBe("EINVAL");

    vfs.umount(ctx, "/mnt");
    expect(vfs.statAt(ctx, undefined, "/mnt").dev).toBe(first.dev);
    vfs.umount(ctx, "/mnt");
    expect(vfs.statAt(ctx, undefined, "/mnt").dev).toBe(vfs.rootMount.fs.dev);
    expect(outcome(() => vfs.umount(ctx, "/mnt"))).toBe("EINVAL");
  });

  it("refuses to remove or rename mount points", () => {
    const { vfs, ctx } = newVfs();
    vfs.mkdirAt(ctx, undefined, "/mnt", 0o755);
    vfs.mount(ctx, "/mnt", new TmpFileSystem({ dev: vfs.allocateDevice() }));
    vfs.mkdirAt(ctx, undefined, "/other", 0o755);

    expect(outcome(() => vfs.rmdirAt(ctx, undefined, "/mnt"))).toBe("EBUSY");
    expect(outcome(() => vfs.renameAt(ctx, undefined, "/mnt", undefined, "/moved"))).toBe("EBUSY");
    expect(outcome(() => vfs.renameAt(ctx, undefined, "/other", undefined, "/mnt/other"))).toBe("EXDEV");
    expect(outcome(() => vfs.linkAt(ctx, undefined, "/mnt", undefined, "/x"))).toBe("EPERM");
  });

  it("keeps .. inside a chroot", () => {
    const { vfs, ctx } = newVfs();
    vfs.mkdirAt(ctx, undefined, "/jail", 0o755);
    vfs.mkdirAt(ctx, undefined, "/jail/etc", 0o755);
    vfs.openAt(ctx, undefined, "/secret", O_CREAT | O_WRONLY, 0o600).decRef();
    vfs.symlinkAt(ctx, "/etc", undefined, "/jail/absolute");
    vfs.symlinkAt(ctx, "../../../secret", undefined, "/jail/etc/escape");

    const jail = vfs.resolveDirectory(ctx, undefined, "/jail");
    const jailed: FsContext = { ...ctx, root: jail, cwd: jail };
    const etcIno = vfs.statAt(ctx, undefined, "/jail/etc").ino;

    expect(vfs.statAt(jailed, undefined, "/..").ino).toBe(jail.dentry.inode.ino);
    expect(vfs.statAt(jailed, undefined, "../../etc").ino).toBe(etcIno);
    expect(vfs.statAt(jailed, undefined, "/absolute").ino).toBe(etcIno);
    expect(outcome(() => vfs.statAt(jailed, undefined, "/secret"))).toBe("ENOENT");
    expect(outcome(() => vfs.statAt(jailed, undefined, "/etc/escape"))).toBe("ENOENT");
    expect(vfs.getcwd(jailed)).toBe("/");
    expect(vfs.pathOf(jail, vfs.rootDirectory())).toBe("(unreachable)/");
  });

  it("walks relative to a directory description", () => {
    const { vfs, ctx } = newVfs();
    vfs.mkdirAt(ctx, undefined, "/a", 0o755);
    vfs.mkdirAt(ctx, undefined, "/a/b", 0o755);
    vfs.openAt(ctx, undefined, "/a/b/f", O_CREAT | O_WRONLY, 0o644).decRef();
    const dir = vfs.openAt(ctx, undefined, "/a", O_RDONLY | O_DIRECTORY);
    const file = vfs.openAt(ctx, undefined, "/a/b/f", O_RDONLY);
    const path = vfs.openAt(ctx, undefined, "/a/b", O_PATH);

    expect(vfs.statAt(ctx, dir, "b/f").ino).toBe(file.stat().ino);
    expect(vfs.statAt(ctx, path, "f").ino).toBe(file.stat().ino);
    expect(vfs.statAt(ctx, file, "", 0x1000).ino).toBe(file.stat().ino);
    expect(outcome(() => vfs.statAt(ctx, file, "x"))).toBe("ENOTDIR");
    expect(outcome(() => vfs.statAt(ctx, dir, ""))).toBe("ENOENT");
    expect(vfs.statAt(ctx, file, "/a").ino).toBe(dir.stat().ino);

    vfs.mkdirAt(ctx, dir, "c", 0o755);
    vfs.renameAt(ctx, dir, "c", path, "c2");
    expect(vfs.statAt(ctx, undefined, "/a/b/c2").mode & S_IFMT).toBe(0o040000);
    expect(vfs.resolveDirectory(ctx, path, "", 0x1000).dentry.name).toBe("b");
    for (const description of [dir, file, path]) {
      description.decRef();
    }
  });

  it("checks permissions for a user", async () => {
    const { Credentials } = await import("./Credentials");
    const { vfs, ctx } = newVfs();
    vfs.mkdirAt(ctx, undefined, "/home", 0o755);
    vfs.mkdirAt(ctx, undefined, "/tmp", 0o777);
    vfs.chmodAt(ctx, undefined, "/tmp", 0o1777);
    vfs.mkdirAt(ctx, undefined, "/private", 0o700);
    vfs.openAt(ctx, undefined, "/private/f", O_CREAT | O_WRONLY, 0o644).decRef();
    vfs.openAt(ctx, undefined, "/home/ro", O_CREAT | O_WRONLY, 0o444).decRef();
    vfs.openAt(ctx, undefined, "/tmp/roots", O_CREAT | O_WRONLY, 0o666).decRef();
    const user: FsContext = { ...ctx, creds: new Credentials(1000, 1000) };

    expect(outcome(() => vfs.statAt(user, undefined, "/private/f"))).toBe("EACCES");
    expect(outcome(() => vfs.openAt(user, undefined, "/home/ro", O_RDONLY).decRef())).toBe("ok");
    expect(outcome(() => vfs.openAt(user, undefined, "/home/ro", O_WRONLY))).toBe("EACCES");
    expect(outcome(() => vfs.openAt(user, undefined, "/home/new", O_CREAT | O_WRONLY, 0o644))).toBe("EACCES");
    expect(outcome(() => vfs.mkdirAt(user, undefined, "/home/d", 0o755))).toBe("EACCES");
    expect(outcome(() => vfs.accessAt(user, undefined, "/home/ro", 2))).toBe("EACCES");
    expect(outcome(() => vfs.accessAt(user, undefined, "/home/ro", 4))).toBe("ok");
    expect(outcome(() => vfs.chmodAt(user, undefined, "/home/ro", 0o777))).toBe("EPERM");
    expect(outcome(() => vfs.chownAt(user, undefined, "/home/ro", 1000, -1))).toBe("EPERM");
    expect(outcome(() => vfs.utimensAt(user, undefined, "/home/ro", undefined))).toBe("EACCES");
    expect(outcome(() => vfs.truncateAt(user, undefined, "/home/ro", 0))).toBe("EACCES");

    vfs.openAt(user, undefined, "/tmp/mine", O_CREAT | O_WRONLY, 0o666).decRef();
    expect(vfs.statAt(ctx, undefined, "/tmp/mine").uid).toBe(1000);
    expect(vfs.statAt(ctx, undefined, "/tmp/mine").mode & 0o777).toBe(0o644);
    expect(outcome(() => vfs.unlinkAt(user, undefined, "/tmp/roots"))).toBe("EPERM");
    expect(outcome(() => vfs.renameAt(user, undefined, "/tmp/roots", undefined, "/tmp/x"))).toBe("EPERM");
    expect(outcome(() => vfs.unlinkAt(user, undefined, "/tmp/mine"))).toBe("ok");
  });

  it("gives new entries the group of a set-group-ID directory", () => {
    const { vfs, ctx } = newVfs();
    vfs.mkdirAt(ctx, undefined, "/shared", 0o775);
    vfs.chownAt(ctx, undefined, "/shared", 0, 50);
    vfs.chmodAt(ctx, undefined, "/shared", 0o2775);
    vfs.mkdirAt(ctx, undefined, "/shared/sub", 0o755);
    vfs.openAt(ctx, undefined, "/shared/file", O_CREAT | O_WRONLY, 0o644).decRef();

    expect(vfs.statAt(ctx, undefined, "/shared/sub").gid).toBe(50);
    expect(vfs.statAt(ctx, undefined, "/shared/sub").mode & 0o7777).toBe(0o2755);
    expect(vfs.statAt(ctx, undefined, "/shared/file").gid).toBe(50);
    expect(vfs.statAt(ctx, undefined, "/shared/file").mode & 0o7777).toBe(0o644);
  });

  it("sets times with utimensat rules", () => {
    const { vfs, ctx } = newVfs();
    vfs.openAt(ctx, undefined, "/f", O_CREAT | O_WRONLY, 0o644).decRef();
    vfs.utimensAt(ctx, undefined, "/f", [
      { sec: 100, nsec: 5 },
      { sec: 200, nsec: (1 << 30) - 2 },
    ]);
    const stat = vfs.statAt(ctx, undefined, "/f");
    expect(stat.atime).toEqual({ sec: 100, nsec: 5 });
    expect(stat.mtime.sec).toBeGreaterThan(200);
    expect(outcome(() => vfs.utimensAt(ctx, undefined, "/f", [{ sec: 0, nsec: 1e9 }, { sec: 0, nsec: 0 }]))).toBe("EINVAL");
  });

  it("reports EROFS on a read-only mount", () => {
    const { vfs, ctx } = newVfs();
    vfs.mkdirAt(ctx, undefined, "/ro", 0o755);
    const fs = new TmpFileSystem({ dev: vfs.allocateDevice() });
    fs.root().create("file", 0o644, { uid: 0, gid: 0 });
    vfs.mount(ctx, "/ro", fs, { readOnly: true });

    expect(outcome(() => vfs.openAt(ctx, undefined, "/ro/file", O_RDONLY).decRef())).toBe("ok");
    expect(outcome(() => vfs.openAt(ctx, undefined, "/ro/file", O_WRONLY))).toBe("EROFS");
    expect(outcome(() => vfs.openAt(ctx, undefined, "/ro/new", O_CREAT | O_WRONLY))).toBe("EROFS");
    expect(outcome(() => vfs.openAt(ctx, undefined, "/ro/file", O_CREAT | O_EXCL | O_WRONLY))).toBe("EEXIST");
    expect(outcome(() => vfs.mkdirAt(ctx, undefined, "/ro/file", 0o755))).toBe("EEXIST");
    expect(outcome(() => vfs.mkdirAt(ctx, undefined, "/ro/d", 0o755))).toBe("EROFS");
    expect(outcome(() => vfs.unlinkAt(ctx, undefined, "/ro/missing"))).toBe("EROFS");
    expect(outcome(() => vfs.chmodAt(ctx, undefined, "/ro/file", 0o600))).toBe("EROFS");
    expect(outcome(() => vfs.accessAt(ctx, undefined, "/ro/file", 2))).toBe("EROFS");
  });

  it("reports deleted working directories", () => {
    const { vfs, ctx } = newVfs();
    vfs.mkdirAt(ctx, undefined, "/gone", 0o755);
    ctx.cwd = vfs.resolveDirectory(ctx, undefined, "/gone");
    vfs.rmdirAt(ctx, undefined, "/gone");
    expect(outcome(() => vfs.getcwd(ctx))).toBe("ENOENT");
    expect(vfs.pathOf(ctx.root, ctx.cwd)).toBe("/gone (deleted)");
    expect(outcome(() => vfs.openAt(ctx, undefined, "new", O_CREAT | O_WRONLY))).toBe("ENOENT");
  });

  it("keeps names current across renames", () => {
    const { vfs, ctx } = newVfs();
    vfs.mkdirAt(ctx, undefined, "/a", 0o755);
    vfs.mkdirAt(ctx, undefined, "/a/deep", 0o755);
    vfs.mkdirAt(ctx, undefined, "/b", 0o755);
    ctx.cwd = vfs.resolveDirectory(ctx, undefined, "/a/deep");

    vfs.renameAt(ctx, undefined, "/a", undefined, "/b/a2");
    expect(vfs.getcwd(ctx)).toBe("/b/a2/deep");
    expect(outcome(() => vfs.statAt(ctx, undefined, "/a"))).toBe("ENOENT");
    expect(vfs.statAt(ctx, undefined, "..").ino).toBe(vfs.statAt(ctx, undefined, "/b/a2").ino);

    vfs.openAt(ctx, undefined, "/file", O_CREAT | O_WRONLY, 0o644).decRef();
    vfs.renameAt(ctx, undefined, "/file", undefined, "/b", 2);
    expect(vfs.statAt(ctx, undefined, "/b").mode & S_IFMT).toBe(0o100000);
    expect(vfs.getcwd(ctx)).toBe("/file/a2/deep");
    expect(outcome(() => vfs.renameAt(ctx, undefined, "/b", undefined, "/missing", 2))).toBe("ENOENT");
    expect(outcome(() => vfs.renameAt(ctx, undefined, "/b", undefined, "/file", 3))).toBe("EINVAL");
    expect(outcome(() => vfs.renameAt(ctx, undefined, "/b", undefined, "/file", 4))).toBe("EINVAL");
    expect(outcome(() => vfs.renameAt(ctx, undefined, "/b", undefined, "/file", 1))).toBe("EEXIST");
    expect(outcome(() => vfs.renameAt(ctx, undefined, "/file", undefined, "/file/a2/x", 2))).toBe("ENOENT");
    expect(outcome(() => vfs.renameAt(ctx, undefined, "/file/a2", undefined, "/file/a2/deep", 2))).toBe("EINVAL");
  });

  it("opens programs with execute permission only", async () => {
    const { Credentials } = await import("./Credentials");
    const { vfs, ctx } = newVfs();
    vfs.openAt(ctx, undefined, "/prog", O_CREAT | O_WRONLY, 0o711).decRef();
    vfs.openAt(ctx, undefined, "/data", O_CREAT | O_WRONLY, 0o644).decRef();
    vfs.symlinkAt(ctx, "prog", undefined, "/link");
    const user: FsContext = { ...ctx, creds: new Credentials(1000, 1000) };

    const program = vfs.openExecutable(user, undefined, "/link");
    expect(program.readable).toBe(true);
    expect(program.vd?.dentry.name).toBe("prog");
    program.decRef();
    expect(outcome(() => vfs.openAt(user, undefined, "/prog", O_RDONLY))).toBe("EACCES");
    expect(outcome(() => vfs.openExecutable(user, undefined, "/data"))).toBe("EACCES");
    expect(outcome(() => vfs.openExecutable(ctx, undefined, "/data"))).toBe("EACCES");
    expect(outcome(() => vfs.openExecutable(ctx, undefined, "/"))).toBe("EACCES");
    expect(outcome(() => vfs.openExecutable(ctx, undefined, "/link", 0x100))).toBe("ELOOP");
  });

  it("allows O_NOATIME only to the owner", async () => {
    const { Credentials } = await import("./Credentials");
    const { vfs, ctx } = newVfs();
    vfs.openAt(ctx, undefined, "/f", O_CREAT | O_WRONLY, 0o644).decRef();
    const user: FsContext = { ...ctx, creds: new Credentials(1000, 1000) };
    expect(outcome(() => vfs.openAt(user, undefined, "/f", O_RDONLY | 0o1000000))).toBe("EPERM");
    expect(outcome(() => vfs.openAt(ctx, undefined, "/f", O_RDONLY | 0o1000000).decRef())).toBe("ok");
  });

  it("rejects paths that are not byte strings", () => {
    const { vfs, ctx } = newVfs();
    expect(outcome(() => vfs.statAt(ctx, undefined, "/\u0100"))).toBe("EINVAL");
    expect(outcome(() => vfs.statAt(ctx, undefined, "/a\0b"))).toBe("EINVAL");
    expect(outcome(() => vfs.statAt(ctx, undefined, ""))).toBe("ENOENT");
  });
});
