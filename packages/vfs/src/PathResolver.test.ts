import { Errno, SyscallError } from "@sandbox/abi";
import { describe, expect, it } from "vitest";
import { MAXSYMLINKS } from "./constants";
import { Credentials } from "./Credentials";
import { PathResolver, checkPath } from "./PathResolver";
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

function newTree() {
  const vfs = new VirtualFileSystem();
  vfs.mountRoot(new TmpFileSystem({ dev: vfs.allocateDevice(), mode: 0o755 }));
  const ctx = vfs.newContext();
  vfs.mkdirAt(ctx, undefined, "/dir", 0o755);
  vfs.symlinkAt(ctx, "dir", undefined, "/link");
  return { vfs, ctx, root: vfs.rootDirectory() };
}

describe("PathResolver", () => {
  it("shares one symbolic link budget per call", () => {
    const { root } = newTree();
    const resolver = new PathResolver(Credentials.root(), root);
    for (let i = 0; i < MAXSYMLINKS; i++) {
      resolver.resolve(root, "/link", true);
    }
    expect(errnoOf(() => resolver.resolve(root, "/link", true))).toBe(Errno.ELOOP);
    expect(errnoOf(() => new PathResolver(Credentials.root(), root).resolve(root, "/link", true))).toBeUndefined();
  });

  it("splits off the last component", () => {
    const { root } = newTree();
    const resolver = new PathResolver(Credentials.root(), root);
    const target = resolver.resolveParent(root, "/link//new/");
    expect(target.name).toBe("new");
    expect(target.trailingSlash).toBe(true);
    expect(target.parent.dentry.name).toBe("dir");
    expect(resolver.resolveParent(root, "///").name).toBe("");
    expect(resolver.resolveParent(root, "dir/..").name).toBe("..");
    expect(errnoOf(() => resolver.resolveParent(root, "missing/new"))).toBe(Errno.ENOENT);
  });

  it("checks search permission on every directory walked", () => {
    const { vfs, ctx, root } = newTree();
    vfs.mkdirAt(ctx, undefined, "/dir/closed", 0o700);
    vfs.mkdirAt(ctx, undefined, "/dir/closed/inner", 0o777);
    const user = new PathResolver(new Credentials(1000, 1000), root);
    expect(errnoOf(() => user.resolve(root, "/dir/closed", true))).toBeUndefined();
    expect(errnoOf(() => user.resolve(root, "/dir/closed/inner", true))).toBe(Errno.EACCES);
    expect(errnoOf(() => user.resolve(root, "/dir/closed/.", true))).toBe(Errno.EACCES);
  });

  it("climbs out of a mount with ..", () => {
    const { vfs, ctx, root } = newTree();
    const inner = new TmpFileSystem({ dev: vfs.allocateDevice() });
    vfs.mount(ctx, "/dir", inner);
    const resolver = new PathResolver(Credentials.root(), root);
    const mounted = resolver.resolve(root, "/dir", true);
    expect(mounted.mount.fs).toBe(inner);
    expect(resolver.parentOf(mounted)).toEqual(root);
    expect(resolver.parentOf(root)).toEqual(root);
  });

  it("validates paths", () => {
    expect(errnoOf(() => checkPath(""))).toBe(Errno.ENOENT);
    expect(errnoOf(() => checkPath("a".repeat(4096)))).toBe(Errno.ENAMETOOLONG);
    expect(errnoOf(() => checkPath("a".repeat(4095)))).toBeUndefined();
    expect(errnoOf(() => checkPath("\u20ac"))).toBe(Errno.EINVAL);
  });
});
