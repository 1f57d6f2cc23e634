import { Errno, SyscallError } from "@sandbox/abi";
import { MAXSYMLINKS, NAME_MAX, PATH_MAX, X_OK } from "./constants";
import type { Credentials } from "./Credentials";
import { sameVirtualDentry, type VirtualDentry } from "./Dentry";
import { checkAccess } from "./permission";
import type { FileDescription } from "./FileDescription";

/** The directory and last component of a path, for operations that create or remove a name. */
export interface ParentAndName {
  /** The directory that contains (or will contain) the last component. */
  parent: VirtualDentry;
  /** The last component: a name, ".", "..", or "" when the path is only slashes. */
  name: string;
  /** True if the path ended with "/". */
  trailingSlash: boolean;
}

/**
 * Throws for a path that no walk can take: ENOENT for an empty path,
 * ENAMETOOLONG for PATH_MAX bytes or more (the NUL would not fit), EINVAL
 * for a NUL or a character above U+00FF (paths are byte strings).
 */
export function checkPath(path: string): void {
  if (path.length === 0) {
    throw new SyscallError(Errno.ENOENT, "empty path");
  }
  if (path.length >= PATH_MAX) {
    throw new SyscallError(Errno.ENAMETOOLONG, `path of ${path.length} bytes`);
  }
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i);
    if (code === 0 || code > 0xff) {
      throw new SyscallError(Errno.EINVAL, `path contains character code ${code}, but paths are byte strings without NUL`);
    }
  }
}

/** Splits a path into its components, last one first, so a walk can pop them in order. */
function componentsReversed(path: string): string[] {
  const components: string[] = [];
  for (const part of path.split("/")) {
    if (part.length > 0) {
      components.push(part);
    }
  }
  return components.reverse();
}

/**
 * Walks paths as Linux does, for one system call: search permission on each
 * directory, ".", ".." (which never leaves `root` and climbs out of mounts),
 * mount crossing, and symbolic links. The symbolic link count is shared by
 * every walk of the same resolver, so one system call follows at most
 * MAXSYMLINKS (40) links in total and the next one fails with ELOOP.
 */
export class PathResolver {
  private symlinks = 0;
  /** The open file that the last walk reached through a final magic link, for open to take. */
  private magicFile: FileDescription | undefined;

  constructor(
    private readonly creds: Credentials,
    private readonly root: VirtualDentry,
  ) {}

  /**
   * Resolves `path` from `start` (used for relative paths). The last
   * component is followed if it is a symbolic link and `followFinal` is set
   * or the path ends with "/". A trailing "/" also requires a directory.
   */
  resolve(start: VirtualDentry, path: string, followFinal: boolean): VirtualDentry {
    checkPath(path);
    const trailingSlash = path.endsWith("/");
    const stack = componentsReversed(path);
    const from = path.startsWith("/") ? this.root : start;
    this.magicFile = undefined;
    const { vd, mustBeDirectory } = this.walk(from, stack, followFinal || trailingSlash);
    if ((trailingSlash || mustBeDirectory) && !vd.dentry.isDirectory) {
      throw new SyscallError(Errno.ENOTDIR);
    }
    return vd;
  }

  /**
   * Resolves every component of `path` but the last, following symbolic
   * links, and returns that directory with the last component.
   */
  resolveParent(start: VirtualDentry, path: string): ParentAndName {
    checkPath(path);
    const trailingSlash = path.endsWith("/");
    const stack = componentsReversed(path);
    const from = path.startsWith("/") ? this.root : start;
    if (stack.length === 0) {
      return { parent: this.root, name: "", trailingSlash };
    }

    const name = stack.shift() as string;
    const { vd } = this.walk(from, stack, true);
    if (!vd.dentry.isDirectory) {
      throw new SyscallError(Errno.ENOTDIR);
    }
    return { parent: vd, name, trailingSlash };
  }

  /**
   * Looks up one normal name in the directory `parent` after checking search
   * permission and NAME_MAX. Returns the child as found, without crossing a
   * mount on it, or undefined if it does not exist.
   */
  lookupChild(parent: VirtualDentry, name: string): VirtualDentry | undefined {
    if (!parent.dentry.isDirectory) {
      throw new SyscallError(Errno.ENOTDIR);
    }
    checkAccess(this.creds, parent.dentry.inode, X_OK);
    if (name.length > NAME_MAX) {
      throw new SyscallError(Errno.ENAMETOOLONG, `name of ${name.length} bytes`);
    }
    const child = parent.dentry.lookup(name);
    return child === undefined ? undefined : { mount: parent.mount, dentry: child };
  }

  /**
   * Returns the open file that the last resolve reached through a final
   * magic link to a file without a place in the tree, and clears it. The
   * dentry that resolve returned is then the link's.
   */
  takeMagicFile(): FileDescription | undefined {
    const file = this.magicFile;
    this.magicFile = undefined;
    return file;
  }

  /**
   * Follows `link` if it is a magic link, counting it as a symbolic link.
   * Returns where it leads, or the link itself where it leads to a file
   * without a place in the tree, which takeMagicFile then returns. Returns
   * undefined for an ordinary symbolic link.
   */
  followMagicLink(link: VirtualDentry): VirtualDentry | undefined {
    const magic = link.dentry.inode.magicLink?.();
    if (magic === undefined) return undefined;
    this.countSymlink();
    if ("vd" in magic) return magic.vd;
    this.magicFile = magic.file;
    return link;
  }

  /** Counts one more symbolic link. Throws ELOOP past MAXSYMLINKS. */
  private countSymlink(): void {
    this.symlinks++;
    if (this.symlinks > MAXSYMLINKS) {
      throw new SyscallError(Errno.ELOOP);
    }
  }

  /** Counts one more symbolic link and returns its target. Throws ELOOP past MAXSYMLINKS. */
  readSymlink(link: VirtualDentry): string {
    this.countSymlink();
    const target = link.dentry.inode.readlink();
    if (target.length === 0) {
      throw new SyscallError(Errno.ENOENT, "empty symbolic link");
    }
    return target;
  }

  /** Returns the top-most mount root stacked on `vd`, or `vd` if nothing is mounted there. */
  followMounts(vd: VirtualDentry): VirtualDentry {
    let current = vd;
    for (;;) {
      const mounted = current.dentry.mountCount > 0 ? current.mount.children.get(current.dentry) : undefined;
      if (mounted === undefined) {
        return current;
      }
      current = { mount: mounted, dentry: mounted.root };
    }
  }

  /** Returns the directory that ".." names in the directory `vd`. */
  parentOf(vd: VirtualDentry): VirtualDentry {
    let current = vd;
    for (;;) {
      if (sameVirtualDentry(current, this.root)) {
        return current;
      }
      if (current.dentry !== current.mount.root) {
        const parent = current.dentry.parent ?? current.dentry;
        return this.followMounts({ mount: current.mount, dentry: parent });
      }
      const { parent, mountpoint } = current.mount;
      if (parent === null || mountpoint === null) {
        return current;
      }
      current = { mount: parent, dentry: mountpoint };
    }
  }

  private walk(
    start: VirtualDentry,
    stack: string[],
    followFinal: boolean,
  ): { vd: VirtualDentry; mustBeDirectory: boolean } {
    let vd = start;
    let mustBeDirectory = false;
    while (stack.length > 0) {
      const name = stack.pop() as string;
      const isLast = stack.length === 0;
      const next = this.step(vd, name);
      if (!next.dentry.isSymlink || (isLast && !followFinal)) {
        vd = next;
        continue;
      }

      const magic = this.followMagicLink(next);
      if (magic !== undefined) {
        // A file without a place in the tree ends the walk at the link.
        if (this.magicFile !== undefined && !isLast) throw new SyscallError(Errno.ENOTDIR);
        vd = magic;
        continue;
      }

      // Continue from the directory that contains the link, or from the
      // root for an absolute target, with the target's components in front.
      const target = this.readSymlink(next);
      if (target.startsWith("/")) {
        vd = this.root;
      }
      if (isLast && target.endsWith("/")) {
        mustBeDirectory = true;
      }
      stack.push(...componentsReversed(target));
    }
    return { vd, mustBeDirectory };
  }

  private step(vd: VirtualDentry, name: string): VirtualDentry {
    if (name === "." || name === "..") {
      if (!vd.dentry.isDirectory) {
        throw new SyscallError(Errno.ENOTDIR);
      }
      checkAccess(this.creds, vd.dentry.inode, X_OK);
      return name === "." ? vd : this.parentOf(vd);
    }

    const child = this.lookupChild(vd, name);
    if (child === undefined) {
      throw new SyscallError(Errno.ENOENT);
    }
    return this.followMounts(child);
  }
}
