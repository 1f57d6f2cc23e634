import { closeSync } from "node:fs";
import { Errno } from "@sandbox/abi";
import { ROOT_HANDLE } from "../protocol/messages";
import { GoferError } from "./GoferError";

/** A host file that the client holds a handle to. */
/** The host device and inode numbers of a file, as a `bigint: true` stat reports them. */
export interface FileIdentity {
  readonly dev: bigint;
  readonly ino: bigint;
}

export interface HostHandle {
  /** The handle number that the client uses. */
  readonly handle: number;
  /**
   * A host descriptor of the file: O_PATH for walked files, an O_RDONLY
   * descriptor for files the gofer created. It pins the inode, so its
   * device and inode numbers are not reused while the handle exists.
   */
  readonly fd: number;
  readonly dev: bigint;
  readonly ino: bigint;
  /** Number of client references: walks and creations that returned this handle, less the releases. */
  references: number;
}

/**
 * The handles of one client. A handle stands for one host file, not for one
 * name, so walks that reach the same host file (through hard links or
 * again) share the handle and its descriptor and add a reference. The root
 * handle is never freed.
 */
export class HandleTable {
  private readonly byNumber = new Map<number, HostHandle>();
  private readonly byIdentity = new Map<string, HostHandle>();
  private nextHandle = ROOT_HANDLE + 1;

  constructor(rootFd: number, rootAttributes: FileIdentity) {
    this.add(ROOT_HANDLE, rootFd, rootAttributes);
  }

  /** Number of open handles, the root included. */
  get size(): number {
    return this.byNumber.size;
  }

  /** Returns the handle `handle`, or throws EBADF. */
  get(handle: number): HostHandle {
    const entry = this.byNumber.get(handle);
    if (entry === undefined) {
      throw new GoferError(Errno.EBADF, `unknown handle ${handle}`);
    }
    return entry;
  }

  /**
   * Returns a handle for the host file that `fd` refers to, with one more
   * reference. The table takes `fd`: it keeps it for a new handle, or closes
   * it when the file already has one.
   */
  insert(fd: number, attributes: FileIdentity): HostHandle {
    const existing = this.byIdentity.get(identity(attributes.dev, attributes.ino));
    if (existing !== undefined) {
      closeSync(fd);
      existing.references++;
      return existing;
    }
    const handle = this.nextHandle++;
    return this.add(handle, fd, attributes);
  }

  /** Drops one reference of `handle`, and the handle with its descriptor after the last. Throws EBADF for an unknown handle. */
  release(handle: number): void {
    const entry = this.get(handle);
    if (handle === ROOT_HANDLE) {
      return;
    }
    entry.references--;
    if (entry.references > 0) {
      return;
    }
    this.byNumber.delete(handle);
    this.byIdentity.delete(identity(entry.dev, entry.ino));
    closeSync(entry.fd);
  }

  /** Closes every descriptor, the root's too. */
  closeAll(): void {
    for (const entry of this.byNumber.values()) {
      closeSync(entry.fd);
    }
    this.byNumber.clear();
    this.byIdentity.clear();
  }

  private add(handle: number, fd: number, attributes: FileIdentity): HostHandle {
    const entry: HostHandle = { handle, fd, dev: attributes.dev, ino: attributes.ino, references: 1 };
    this.byNumber.set(handle, entry);
    this.byIdentity.set(identity(attributes.dev, attributes.ino), entry);
    return entry;
  }
}

function identity(dev: bigint, ino: bigint): string {
  return `${dev}:${ino}`;
}
