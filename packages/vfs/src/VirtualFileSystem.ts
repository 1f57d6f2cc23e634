import { Errno, SyscallError } from "@sandbox/abi";
import { AT_SYMLINK_NOFOLLOW, makeDev } from "./constants";
import { Credentials } from "./Credentials";
import { Dentry, type VirtualDentry } from "./Dentry";
import type { FileDescription } from "./FileDescription";
import type { FileSystem } from "./FileSystem";
import { Mount } from "./Mount";
import {
  accessAt,
  chmodAt,
  chownAt,
  readlinkAt,
  resolveDirectory,
  statAt,
  truncateAt,
  utimensAt,
} from "./operations/attributes";
import { type FsContext, newResolver, resolveAt } from "./operations/context";
import { linkAt, mkdirAt, mknodAt, renameAt, rmdirAt, symlinkAt, unlinkAt } from "./operations/names";
import { openAt, openExecutable } from "./operations/open";
import type { Stat, Timespec } from "./Stat";

/** The largest minor number of an anonymous device (major 0), as Linux allows. */
const MAX_ANONYMOUS_MINOR = (1 << 20) - 1;

/** Options of a mount. */
export interface MountOptions {
  /** Make the mount read-only (MS_RDONLY). */
  readOnly?: boolean;
}

/**
 * The virtual file system of one sandbox: its mount tree (a mount namespace)
 * and the path operations of the file system system calls.
 *
 * Paths are byte strings: each character is one byte (latin1), so any Linux
 * file name passes through unchanged. The Sentry decodes a path from
 * application memory with `Buffer.toString("latin1")`. Every path operation
 * takes an FsContext (credentials, root, working directory, umask) and, for
 * the *at calls, the description of dirfd (undefined for AT_FDCWD). Errors
 * are thrown as SyscallError with the errno Linux would return.
 */
export class VirtualFileSystem {
  private lastMountId = 0;
  private lastAnonymousMinor = 0;
  private readonly fsRoots = new Map<FileSystem, Dentry>();
  private rootMountValue: Mount | undefined;

  /** Returns a new anonymous device number (major 0) for a file system's st_dev. */
  allocateDevice(): number {
    if (this.lastAnonymousMinor >= MAX_ANONYMOUS_MINOR) {
      throw new Error("no anonymous device numbers left");
    }
    this.lastAnonymousMinor++;
    return makeDev(0, this.lastAnonymousMinor);
  }

  /** Mounts `fs` as the root of the mount tree. Throws if a root exists. */
  mountRoot(fs: FileSystem, options: MountOptions = {}): Mount {
    if (this.rootMountValue !== undefined) {
      throw new Error("the root file system is already mounted");
    }
    this.rootMountValue = new Mount(++this.lastMountId, fs, this.rootDentryOf(fs), null, null, options.readOnly ?? false);
    return this.rootMountValue;
  }

  /** The root mount. Throws if mountRoot was not called. */
  get rootMount(): Mount {
    if (this.rootMountValue === undefined) {
      throw new Error("no root file system: call mountRoot first");
    }
    return this.rootMountValue;
  }

  /** Returns "/" of the mount tree. */
  rootDirectory(): VirtualDentry {
    const mount = this.rootMount;
    return { mount, dentry: mount.root };
  }

  /** Returns a context at "/" with umask 022, for `creds` (root by default). */
  newContext(creds: Credentials = Credentials.root()): FsContext {
    const root = this.rootDirectory();
    return { creds, root, cwd: root, umask: 0o022 };
  }

  /**
   * Implements mount(2) of a new file system on the directory `path`
   * (symbolic links followed). A mount on a mount point stacks on top.
   * Only root may mount (EPERM).
   */
  mount(ctx: FsContext, path: string, fs: FileSystem, options: MountOptions = {}): Mount {
    if (!ctx.creds.isRoot) {
      throw new SyscallError(Errno.EPERM);
    }
    const target = newResolver(ctx).resolve(ctx.cwd, path, true);
    const root = this.rootDentryOf(fs);
    if (!target.dentry.isDirectory || !root.isDirectory) {
      throw new SyscallError(Errno.ENOTDIR);
    }
    const mount = new Mount(++this.lastMountId, fs, root, target.mount, target.dentry, options.readOnly ?? false);
    target.mount.children.set(target.dentry, mount);
    target.dentry.mountCount++;
    return mount;
  }

  /**
   * Implements umount2(2) without flags: detaches the mount whose root is
   * `path`. EINVAL if `path` is not a mount root or is the root mount, EBUSY
   * if other mounts sit below it. Open files on it keep working.
   */
  umount(ctx: FsContext, path: string): void {
    if (!ctx.creds.isRoot) {
      throw new SyscallError(Errno.EPERM);
    }
    const target = newResolver(ctx).resolve(ctx.cwd, path, true);
    const mount = target.mount;
    if (target.dentry !== mount.root || mount.parent === null || mount.mountpoint === null) {
      throw new SyscallError(Errno.EINVAL, `${path} is not a mount point`);
    }
    if (mount.children.size > 0) {
      throw new SyscallError(Errno.EBUSY);
    }
    mount.parent.children.delete(mount.mountpoint);
    mount.mountpoint.mountCount--;
  }

  /**
   * Resolves `path` relative to `dir` (or the working directory). `atFlags`
   * may hold AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH.
   */
  resolve(ctx: FsContext, dir: FileDescription | undefined, path: string, atFlags = 0): VirtualDentry {
    return resolveAt(ctx, newResolver(ctx), dir, path, atFlags, (atFlags & AT_SYMLINK_NOFOLLOW) === 0);
  }

  /** Implements openat(2). See `openAt` in operations/open for the flag rules. */
  openAt(ctx: FsContext, dir: FileDescription | undefined, path: string, flags: number, mode = 0): FileDescription {
    return openAt(ctx, dir, path, flags, mode);
  }

  /**
   * Opens the program of execve(2) or execveat(2): a regular file with
   * execute permission (EACCES otherwise), read permission not needed.
   * `atFlags` may hold AT_SYMLINK_NOFOLLOW (ELOOP on a link) and AT_EMPTY_PATH.
   */
  openExecutable(ctx: FsContext, dir: FileDescription | undefined, path: string, atFlags = 0): FileDescription {
    return openExecutable(ctx, dir, path, atFlags);
  }

  /** Implements newfstatat(2). `atFlags` may hold AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH. */
  statAt(ctx: FsContext, dir: FileDescription | undefined, path: string, atFlags = 0): Stat {
    return statAt(ctx, dir, path, atFlags);
  }

  /** Implements faccessat2(2) with the credentials in `ctx`. */
  accessAt(ctx: FsContext, dir: FileDescription | undefined, path: string, mode: number, atFlags = 0): void {
    accessAt(ctx, dir, path, mode, atFlags);
  }

  /** Implements readlinkat(2). */
  readlinkAt(ctx: FsContext, dir: FileDescription | undefined, path: string): string {
    return readlinkAt(ctx, dir, path);
  }

  /** Implements mkdirat(2). */
  mkdirAt(ctx: FsContext, dir: FileDescription | undefined, path: string, mode: number): void {
    mkdirAt(ctx, dir, path, mode);
  }

  /** Implements mknodat(2). */
  mknodAt(ctx: FsContext, dir: FileDescription | undefined, path: string, mode: number, rdev = 0): void {
    mknodAt(ctx, dir, path, mode, rdev);
  }

  /** Implements symlinkat(2): `path` becomes a link to `target`. */
  symlinkAt(ctx: FsContext, target: string, dir: FileDescription | undefined, path: string): void {
    symlinkAt(ctx, target, dir, path);
  }

  /** Implements linkat(2). `atFlags` may hold AT_SYMLINK_FOLLOW and AT_EMPTY_PATH. */
  linkAt(
    ctx: FsContext,
    oldDir: FileDescription | undefined,
    oldPath: string,
    newDir: FileDescription | undefined,
    newPath: string,
    atFlags = 0,
  ): void {
    linkAt(ctx, oldDir, oldPath, newDir, newPath, atFlags);
  }

  /** Implements unlinkat(2). AT_REMOVEDIR makes it rmdir. */
  unlinkAt(ctx: FsContext, dir: FileDescription | undefined, path: string, atFlags = 0): void {
    unlinkAt(ctx, dir, path, atFlags);
  }

  /** Implements rmdir(2) relative to `dir`. */
  rmdirAt(ctx: FsContext, dir: FileDescription | undefined, path: string): void {
    rmdirAt(ctx, dir, path);
  }

  /** Implements renameat2(2). `flags` may be RENAME_NOREPLACE or RENAME_EXCHANGE. */
  renameAt(
    ctx: FsContext,
    oldDir: FileDescription | undefined,
    oldPath: string,
    newDir: FileDescription | undefined,
    newPath: string,
    flags = 0,
  ): void {
    renameAt(ctx, oldDir, oldPath, newDir, newPath, flags);
  }

  /** Implements fchmodat(2). Fchmod is `chmodAt(ctx, file, "", mode, AT_EMPTY_PATH)`. */
  chmodAt(ctx: FsContext, dir: FileDescription | undefined, path: string, mode: number, atFlags = 0): void {
    chmodAt(ctx, dir, path, mode, atFlags);
  }

  /** Implements fchownat(2). -1 leaves an ID unchanged. */
  chownAt(ctx: FsContext, dir: FileDescription | undefined, path: string, uid: number, gid: number, atFlags = 0): void {
    chownAt(ctx, dir, path, uid, gid, atFlags);
  }

  /** Implements utimensat(2). `times` undefined sets both times to now. */
  utimensAt(
    ctx: FsContext,
    dir: FileDescription | undefined,
    path: string,
    times: readonly [Timespec, Timespec] | undefined,
    atFlags = 0,
  ): void {
    utimensAt(ctx, dir, path, times, atFlags);
  }

  /** Implements truncate(2) relative to `dir`. */
  truncateAt(ctx: FsContext, dir: FileDescription | undefined, path: string, size: number): void {
    truncateAt(ctx, dir, path, size);
  }

  /**
   * Resolves a directory for chdir, fchdir (empty path with AT_EMPTY_PATH)
   * or chroot: ENOTDIR for other files, EACCES without search permission.
   * The caller stores the result in `ctx.cwd` or `ctx.root`.
   */
  resolveDirectory(ctx: FsContext, dir: FileDescription | undefined, path: string, atFlags = 0): VirtualDentry {
    return resolveDirectory(ctx, dir, path, atFlags);
  }

  /**
   * Implements getcwd(2): the path of the working directory as seen from the
   * root of `ctx`. Throws ENOENT if the directory was removed.
   */
  getcwd(ctx: FsContext): string {
    if (ctx.cwd.dentry.deleted) {
      throw new SyscallError(Errno.ENOENT);
    }
    return this.pathOf(ctx.root, ctx.cwd);
  }

  /**
   * Returns the path of `vd` as seen from `root`, as /proc/PID/fd links show
   * it. A place outside `root` gets the prefix "(unreachable)", and a
   * removed file the suffix " (deleted)", as on Linux.
   */
  pathOf(root: VirtualDentry, vd: VirtualDentry): string {
    const names: string[] = [];
    let mount = vd.mount;
    let dentry = vd.dentry;
    let reachable = false;
    for (;;) {
      if (mount === root.mount && dentry === root.dentry) {
        reachable = true;
        break;
      }
      if (dentry === mount.root) {
        if (mount.parent === null || mount.mountpoint === null) {
          break;
        }
        dentry = mount.mountpoint;
        mount = mount.parent;
        continue;
      }
      if (dentry.parent === null) {
        break;
      }
      names.push(dentry.name);
      dentry = dentry.parent;
    }

    const path = `/${names.reverse().join("/")}`;
    const prefix = reachable ? "" : "(unreachable)";
    const suffix = vd.dentry.deleted ? " (deleted)" : "";
    return `${prefix}${path}${suffix}`;
  }

  private rootDentryOf(fs: FileSystem): Dentry {
    let root = this.fsRoots.get(fs);
    if (root === undefined) {
      root = new Dentry(fs.root(), "", null);
      this.fsRoots.set(fs, root);
    }
    return root;
  }
}
