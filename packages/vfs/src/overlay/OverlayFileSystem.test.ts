import { execFileSync } from "node:child_process";
import * as hostFs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Errno, SyscallError } from "@sandbox/abi";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  AT_EMPTY_PATH,
  AT_SYMLINK_NOFOLLOW,
  O_APPEND,
  O_CREAT,
  O_DIRECTORY,
  O_NONBLOCK,
  O_RDONLY,
  O_RDWR,
  O_TRUNC,
  O_WRONLY,
  RENAME_EXCHANGE,
  S_IFDIR,
  S_IFIFO,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
} from "../constants";
import type { Inode } from "../FileSystem";
import { HostFileSystem } from "../host/HostFileSystem";
import type { FsContext } from "../operations/context";
import { TmpFileSystem } from "../tmpfs/TmpFileSystem";
import { VirtualFileSystem } from "../VirtualFileSystem";
import { OverlayFileSystem, UPPER_INO_BASE } from "./OverlayFileSystem";

const errnoNames = new Map<number, string>(Object.entries(Errno).map(([name, value]) => [value, name]));

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

/** Runs `call` and returns "ok" or the name of the errno it failed with (a SyscallError or a node:fs error). */
function outcome(call: () => unknown): string {
  try {
    call();
    return "ok";
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

/** Formats one file of a tree walk: everything but times and directory sizes. */
function describeFile(mode: number, uid: number, gid: number, nlink: number, detail: string): string {
  const type = mode & S_IFMT;
  const links = type === S_IFDIR ? "" : ` nlink ${nlink}`;
  return `type ${(type >>> 12).toString(8)} mode ${(mode & 0o7777).toString(8)} owner ${uid}:${gid}${links} ${detail}`;
}

/** Walks a host tree and returns one line per file, sorted. */
function snapshotHost(root: string, withTimes = false): string[] {
  const lines: string[] = [];
  const walk = (relative: string) => {
    const path = join(root, relative);
    const attributes = hostFs.lstatSync(path, { bigint: true });
    const mode = Number(attributes.mode);
    let detail = "";
    if ((mode & S_IFMT) === S_IFREG) {
      detail = `data ${hostFs.readFileSync(path).toString("hex")}`;
    } else if ((mode & S_IFMT) === S_IFLNK) {
      detail = `target ${hostFs.readlinkSync(path)}`;
    }
    if (withTimes) {
      detail += ` ino ${attributes.ino} mtime ${attributes.mtimeNs}`;
    }
    lines.push(`/${relative} ${describeFile(mode, Number(attributes.uid), Number(attributes.gid), Number(attributes.nlink), detail)}`);
    if ((mode & S_IFMT) === S_IFDIR) {
      for (const name of hostFs.readdirSync(path)) {
        walk(relative === "" ? name : `${relative}/${name}`);
      }
    }
  };
  walk("");
  return lines.sort();
}

/** Walks the VFS tree from "/" and returns one line per file, sorted, as snapshotHost does. */
function snapshotVfs(vfs: VirtualFileSystem, ctx: FsContext): string[] {
  const lines: string[] = [];
  const walk = (relative: string) => {
    const path = `/${relative}`;
    const stat = vfs.statAt(ctx, undefined, path, AT_SYMLINK_NOFOLLOW);
    const type = stat.mode & S_IFMT;
    let detail = "";
    if (type === S_IFREG) {
      const file = vfs.openAt(ctx, undefined, path, O_RDONLY);
      const data = new Uint8Array(stat.size);
      let count = 0;
      while (count < data.length) {
        const read = file.read(data.subarray(count));
        if (read === 0) {
          break;
        }
        count += read;
      }
      file.decRef();
      detail = `data ${Buffer.from(data.subarray(0, count)).toString("hex")}`;
    } else if (type === S_IFLNK) {
      detail = `target ${vfs.readlinkAt(ctx, undefined, path)}`;
    }
    lines.push(`${path} ${describeFile(stat.mode, stat.uid, stat.gid, stat.nlink, detail)}`);
    if (type === S_IFDIR) {
      const dir = vfs.openAt(ctx, undefined, path, O_RDONLY | O_DIRECTORY);
      const names: string[] = [];
      dir.readdir((name) => {
        names.push(name);
        return true;
      });
      dir.decRef();
      for (const name of names) {
        if (name !== "." && name !== "..") {
          walk(relative === "" ? name : `${relative}/${name}`);
        }
      }
    }
  };
  walk("");
  return lines.sort();
}

/** One step of the differential test: the same change on a real writable copy and on the overlay. */
interface Step {
  name: string;
  host(root: string): void;
  overlay(vfs: VirtualFileSystem, ctx: FsContext): void;
}

function writeAll(vfs: VirtualFileSystem, ctx: FsContext, path: string, flags: number, text: string): void {
  const file = vfs.openAt(ctx, undefined, path, flags, 0o644);
  file.write(Buffer.from(text));
  file.decRef();
}

const steps: Step[] = [
  {
    name: "append to a lower file",
    host: (root) => hostFs.appendFileSync(join(root, "dir/file"), "more\n"),
    overlay: (vfs, ctx) => writeAll(vfs, ctx, "/dir/file", O_WRONLY | O_APPEND, "more\n"),
  },
  {
    name: "truncate a lower file",
    host: (root) => hostFs.truncateSync(join(root, "dir/sub/deep"), 3),
    overlay: (vfs, ctx) => vfs.truncateAt(ctx, undefined, "/dir/sub/deep", 3),
  },
  {
    name: "chmod a lower file",
    host: (root) => hostFs.chmodSync(join(root, "tool"), 0o4711),
    overlay: (vfs, ctx) => vfs.chmodAt(ctx, undefined, "/tool", 0o4711),
  },
  {
    name: "chown a lower directory",
    host: (root) => hostFs.lchownSync(join(root, "empty"), 1000, 1000),
    overlay: (vfs, ctx) => vfs.chownAt(ctx, undefined, "/empty", 1000, 1000),
  },
  {
    name: "create a file in a lower directory",
    host: (root) => hostFs.writeFileSync(join(root, "dir/sub/new"), "fresh"),
    overlay: (vfs, ctx) => writeAll(vfs, ctx, "/dir/sub/new", O_CREAT | O_WRONLY, "fresh"),
  },
  {
    name: "unlink a lower file",
    host: (root) => hostFs.unlinkSync(join(root, "dir/other")),
    overlay: (vfs, ctx) => vfs.unlinkAt(ctx, undefined, "/dir/other"),
  },
  {
    name: "make a directory where a lower file was",
    host: (root) => hostFs.mkdirSync(join(root, "dir/other"), 0o750),
    overlay: (vfs, ctx) => vfs.mkdirAt(ctx, undefined, "/dir/other", 0o750),
  },
  {
    name: "remove a lower directory",
    host: (root) => hostFs.rmdirSync(join(root, "empty")),
    overlay: (vfs, ctx) => vfs.rmdirAt(ctx, undefined, "/empty"),
  },
  {
    name: "make a directory where a lower directory was",
    host: (root) => hostFs.mkdirSync(join(root, "empty")),
    overlay: (vfs, ctx) => vfs.mkdirAt(ctx, undefined, "/empty", 0o755),
  },
  {
    name: "empty and remove a lower tree",
    host: (root) => {
      hostFs.unlinkSync(join(root, "gone/a"));
      hostFs.unlinkSync(join(root, "gone/b"));
      hostFs.rmdirSync(join(root, "gone"));
    },
    overlay: (vfs, ctx) => {
      vfs.unlinkAt(ctx, undefined, "/gone/a");
      vfs.unlinkAt(ctx, undefined, "/gone/b");
      vfs.rmdirAt(ctx, undefined, "/gone");
    },
  },
  {
    name: "recreate a removed lower tree",
    host: (root) => {
      hostFs.mkdirSync(join(root, "gone"));
      hostFs.writeFileSync(join(root, "gone/b"), "new b");
    },
    overlay: (vfs, ctx) => {
      vfs.mkdirAt(ctx, undefined, "/gone", 0o755);
      writeAll(vfs, ctx, "/gone/b", O_CREAT | O_WRONLY, "new b");
    },
  },
  {
    name: "rename a lower file",
    host: (root) => hostFs.renameSync(join(root, "top"), join(root, "dir/sub/moved")),
    overlay: (vfs, ctx) => vfs.renameAt(ctx, undefined, "/top", undefined, "/dir/sub/moved"),
  },
  {
    name: "rename over a lower file",
    host: (root) => hostFs.renameSync(join(root, "dir/sub/new"), join(root, "dir/file")),
    overlay: (vfs, ctx) => vfs.renameAt(ctx, undefined, "/dir/sub/new", undefined, "/dir/file"),
  },
  {
    name: "hard link a lower file",
    host: (root) => hostFs.linkSync(join(root, "dir/sub/deep"), join(root, "deep-link")),
    overlay: (vfs, ctx) => vfs.linkAt(ctx, undefined, "/dir/sub/deep", undefined, "/deep-link"),
  },
  {
    name: "symlink and rename it",
    host: (root) => {
      hostFs.symlinkSync("dir/sub", join(root, "s"));
      hostFs.renameSync(join(root, "s"), join(root, "link"));
    },
    overlay: (vfs, ctx) => {
      vfs.symlinkAt(ctx, "dir/sub", undefined, "/s");
      vfs.renameAt(ctx, undefined, "/s", undefined, "/link");
    },
  },
  {
    name: "rename an upper directory over a lower one",
    host: (root) => {
      hostFs.mkdirSync(join(root, "fresh"));
      hostFs.writeFileSync(join(root, "fresh/x"), "x");
      hostFs.rmSync(join(root, "keep/inner"));
      hostFs.renameSync(join(root, "fresh"), join(root, "keep"));
    },
    overlay: (vfs, ctx) => {
      vfs.mkdirAt(ctx, undefined, "/fresh", 0o755);
      writeAll(vfs, ctx, "/fresh/x", O_CREAT | O_WRONLY, "x");
      vfs.unlinkAt(ctx, undefined, "/keep/inner");
      vfs.renameAt(ctx, undefined, "/fresh", undefined, "/keep");
    },
  },
  {
    name: "exchange two lower files",
    host: (root) => {
      hostFs.renameSync(join(root, "tool"), join(root, "swap"));
      hostFs.renameSync(join(root, "dir/sub/deep"), join(root, "tool"));
      hostFs.renameSync(join(root, "swap"), join(root, "dir/sub/deep"));
    },
    overlay: (vfs, ctx) => vfs.renameAt(ctx, undefined, "/tool", undefined, "/dir/sub/deep", RENAME_EXCHANGE),
  },
  {
    name: "truncate on open and rewrite",
    host: (root) => hostFs.writeFileSync(join(root, "dir/sub/moved"), "rewritten"),
    overlay: (vfs, ctx) => writeAll(vfs, ctx, "/dir/sub/moved", O_WRONLY | O_TRUNC, "rewritten"),
  },
];

describe("OverlayFileSystem", () => {
  let workDir: string;
  let lowerRoot: string;
  let copyRoot: string;
  let lowerBefore: string[];
  let vfs: VirtualFileSystem;
  let ctx: FsContext;
  let overlay: OverlayFileSystem;

  beforeEach(() => {
    workDir = hostFs.mkdtempSync(join(tmpdir(), "vfs-overlay-"));
    lowerRoot = join(workDir, "lower");
    copyRoot = join(workDir, "copy");
    hostFs.mkdirSync(join(lowerRoot, "dir/sub"), { recursive: true });
    hostFs.writeFileSync(join(lowerRoot, "dir/file"), "lower file\n");
    hostFs.writeFileSync(join(lowerRoot, "dir/other"), "other\n");
    hostFs.writeFileSync(join(lowerRoot, "dir/sub/deep"), "deep contents\n");
    hostFs.writeFileSync(join(lowerRoot, "top"), "top\n");
    hostFs.writeFileSync(join(lowerRoot, "tool"), "#!/bin/sh\n", { mode: 0o755 });
    hostFs.mkdirSync(join(lowerRoot, "empty"));
    hostFs.mkdirSync(join(lowerRoot, "gone"));
    hostFs.writeFileSync(join(lowerRoot, "gone/a"), "a");
    hostFs.writeFileSync(join(lowerRoot, "gone/b"), "b");
    hostFs.mkdirSync(join(lowerRoot, "keep"));
    hostFs.writeFileSync(join(lowerRoot, "keep/inner"), "inner");
    hostFs.symlinkSync("dir/file", join(lowerRoot, "link"));
    hostFs.chownSync(join(lowerRoot, "top"), 1234, 5678);
    execFileSync("cp", ["-a", lowerRoot, copyRoot]);
    lowerBefore = snapshotHost(lowerRoot, true);

    vfs = new VirtualFileSystem();
    overlay = new OverlayFileSystem(
      new HostFileSystem(lowerRoot, { dev: vfs.allocateDevice() }),
      new TmpFileSystem({ dev: vfs.allocateDevice() }),
      { dev: vfs.allocateDevice() },
    );
    vfs.mountRoot(overlay);
    ctx = vfs.newContext();
  });

  afterEach(() => {
    hostFs.rmSync(workDir, { recursive: true, force: true });
  });

  it("starts with the view of the lower tree", () => {
    expect(snapshotVfs(vfs, ctx)).toEqual(snapshotHost(copyRoot));
  });

  it("matches a writable copy after each step", () => {
    for (const step of steps) {
      const hostResult = outcome(() => step.host(copyRoot));
      const overlayResult = outcome(() => step.overlay(vfs, ctx));
      expect({ step: step.name, result: overlayResult }).toEqual({ step: step.name, result: hostResult });
      expect({ step: step.name, view: snapshotVfs(vfs, ctx) }).toEqual({ step: step.name, view: snapshotHost(copyRoot) });
      expect({ step: step.name, lower: snapshotHost(lowerRoot, true) }).toEqual({ step: step.name, lower: lowerBefore });
    }
  });

  it("fails like the copy on bad changes", () => {
    const cases: [string, (root: string) => void, () => void][] = [
      ["rmdir of a non-empty lower directory", (root) => hostFs.rmdirSync(join(root, "dir")), () => vfs.rmdirAt(ctx, undefined, "/dir")],
      ["unlink of a lower directory", (root) => hostFs.unlinkSync(join(root, "dir")), () => vfs.unlinkAt(ctx, undefined, "/dir")],
      ["mkdir over a lower file", (root) => hostFs.mkdirSync(join(root, "top")), () => vfs.mkdirAt(ctx, undefined, "/top", 0o755)],
      ["unlink of a missing name", (root) => hostFs.unlinkSync(join(root, "missing")), () => vfs.unlinkAt(ctx, undefined, "/missing")],
      ["rename over a non-empty lower directory", (root) => hostFs.renameSync(join(root, "mine"), join(root, "keep")), () => vfs.renameAt(ctx, undefined, "/mine", undefined, "/keep")],
    ];
    hostFs.mkdirSync(join(copyRoot, "mine"));
    vfs.mkdirAt(ctx, undefined, "/mine", 0o755);
    for (const [name, host, call] of cases) {
      expect({ name, result: outcome(call) }).toEqual({ name, result: outcome(() => host(copyRoot)) });
    }
    expect(snapshotHost(lowerRoot, true)).toEqual(lowerBefore);
  });

  it("hides a whiteout and merges directory listings", () => {
    vfs.unlinkAt(ctx, undefined, "/dir/other");
    writeAll(vfs, ctx, "/dir/added", O_CREAT | O_WRONLY, "added");
    const dir = vfs.openAt(ctx, undefined, "/dir", O_RDONLY | O_DIRECTORY);
    const names: string[] = [];
    dir.readdir((name) => {
      names.push(name);
      return true;
    });
    dir.decRef();
    expect(names.sort()).toEqual([".", "..", "added", "file", "sub"]);
    expect(errnoOf(() => vfs.statAt(ctx, undefined, "/dir/other"))).toBe(Errno.ENOENT);

    const whiteout = overlay.upper.root().lookup("dir")?.lookup("other");
    expect(whiteout).toBeDefined();
    expect(overlay.isWhiteout(whiteout as Inode)).toBe(true);
    vfs.mkdirAt(ctx, undefined, "/dir/other", 0o755);
    const opaque = overlay.upper.root().lookup("dir")?.lookup("other");
    expect(opaque).toBeDefined();
    expect(overlay.isOpaque(opaque as Inode)).toBe(true);
  });

  it("keeps inode numbers across copy-up", () => {
    const lowerIno = Number(hostFs.statSync(join(lowerRoot, "dir/file")).ino);
    const reader = vfs.openAt(ctx, undefined, "/dir/file", O_RDONLY);
    expect(reader.stat().ino).toBe(lowerIno);
    expect(reader.stat().dev).toBe(overlay.dev);

    writeAll(vfs, ctx, "/dir/file", O_WRONLY | O_TRUNC, "changed");
    expect(vfs.statAt(ctx, undefined, "/dir/file").ino).toBe(lowerIno);
    expect(reader.stat().ino).toBe(lowerIno);
    expect(vfs.statAt(ctx, undefined, "/dir").ino).toBe(Number(hostFs.statSync(join(lowerRoot, "dir")).ino));

    writeAll(vfs, ctx, "/upper-only", O_CREAT | O_WRONLY, "");
    expect(vfs.statAt(ctx, undefined, "/upper-only").ino).toBeGreaterThan(UPPER_INO_BASE);
    reader.decRef();
  });

  it("reads the copy through a file opened before copy-up", () => {
    const reader = vfs.openAt(ctx, undefined, "/dir/file", O_RDONLY);
    const buffer = new Uint8Array(64);
    expect(reader.read(buffer.subarray(0, 5))).toBe(5);
    expect(reader.impl.hostFd).toBeGreaterThanOrEqual(0);

    writeAll(vfs, ctx, "/dir/file", O_WRONLY | O_TRUNC, "brand new contents");
    const count = reader.read(buffer);
    expect(Buffer.from(buffer.subarray(0, count)).toString()).toBe(" new contents");
    expect(reader.impl.hostFd).toBeUndefined();
    reader.decRef();
  });

  it("keeps a file readable after its unlink", () => {
    const file = vfs.openAt(ctx, undefined, "/top", O_RDWR);
    vfs.unlinkAt(ctx, undefined, "/top");
    const buffer = new Uint8Array(16);
    expect(file.read(buffer)).toBe(4);
    expect(Buffer.from(buffer.subarray(0, 4)).toString()).toBe("top\n");
    file.decRef();
    expect(errnoOf(() => vfs.statAt(ctx, undefined, "/top"))).toBe(Errno.ENOENT);
  });

  it("changes a lower file after its unlink", () => {
    const file = vfs.openAt(ctx, undefined, "/top", O_RDONLY);
    vfs.unlinkAt(ctx, undefined, "/top");
    vfs.chmodAt(ctx, file, "", 0o600, AT_EMPTY_PATH);
    expect(file.stat().mode & 0o7777).toBe(0o600);
    const buffer = new Uint8Array(16);
    expect(file.read(buffer)).toBe(4);
    expect(errnoOf(() => vfs.statAt(ctx, undefined, "/top"))).toBe(Errno.ENOENT);
    file.decRef();
    expect(snapshotVfs(vfs, ctx).some((line) => line.includes("overlay-copy-up"))).toBe(false);
    expect(snapshotHost(lowerRoot, true)).toEqual(lowerBefore);
  });

  it("refuses to rename a lower directory with EXDEV", () => {
    expect(errnoOf(() => vfs.renameAt(ctx, undefined, "/dir", undefined, "/moved"))).toBe(Errno.EXDEV);
    vfs.mkdirAt(ctx, undefined, "/mine", 0o755);
    vfs.renameAt(ctx, undefined, "/mine", undefined, "/yours");
    expect(vfs.statAt(ctx, undefined, "/yours").mode & S_IFMT).toBe(S_IFDIR);
  });

  it("opens a FIFO through the upper layer", () => {
    vfs.mknodAt(ctx, undefined, "/dir/fifo", S_IFIFO | 0o644);
    const reader = vfs.openAt(ctx, undefined, "/dir/fifo", O_RDONLY | O_NONBLOCK);
    const writer = vfs.openAt(ctx, undefined, "/dir/fifo", O_WRONLY);
    writer.write(Uint8Array.of(1, 2));
    expect(reader.read(new Uint8Array(4))).toBe(2);
    writer.decRef();
    reader.decRef();

    execFileSync("mkfifo", [join(lowerRoot, "lower-fifo")]);
    const lowerReader = vfs.openAt(ctx, undefined, "/lower-fifo", O_RDONLY | O_NONBLOCK);
    expect(lowerReader.read(new Uint8Array(4))).toBe(0);
    lowerReader.decRef();
    expect(hostFs.statSync(join(lowerRoot, "lower-fifo")).isFIFO()).toBe(true);
  });

  it("copies a sparse file up with its holes", () => {
    const sparse = join(lowerRoot, "sparse");
    const fd = hostFs.openSync(sparse, "w");
    hostFs.writeSync(fd, "end", 1 << 20);
    hostFs.closeSync(fd);
    vfs.chmodAt(ctx, undefined, "/sparse", 0o600);
    const stat = vfs.statAt(ctx, undefined, "/sparse");
    expect(stat.size).toBe((1 << 20) + 3);
    expect(stat.blocks).toBeLessThan(64);
  });
});
