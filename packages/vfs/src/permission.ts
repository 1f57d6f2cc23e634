import { Errno, SyscallError } from "@sandbox/abi";
import { R_OK, S_IFDIR, S_IFMT, S_IFREG, S_ISVTX, W_OK, X_OK } from "./constants";
import type { Credentials } from "./Credentials";

/** The attributes that a permission check reads. */
export interface Permissions {
  /** File type and permission bits. */
  mode: number;
  uid: number;
  gid: number;
}

/**
 * Reports whether `creds` may access a file with the given attributes.
 * `access` is a set of R_OK, W_OK and X_OK bits. As in Linux, only one class
 * of bits applies: the owner bits if the caller owns the file, else the group
 * bits if the caller is in the file's group, else the other bits. Root may
 * read and write anything, search any directory, and execute any file that
 * has at least one execute bit.
 */
export function mayAccess(creds: Credentials, file: Permissions, access: number): boolean {
  const isDirectory = (file.mode & S_IFMT) === S_IFDIR;
  if (creds.isRoot) {
    if ((access & X_OK) === 0 || isDirectory) {
      return true;
    }
    return (file.mode & 0o111) !== 0;
  }

  let granted: number;
  if (creds.uid === file.uid) {
    granted = (file.mode >> 6) & 7;
  } else if (creds.inGroup(file.gid)) {
    granted = (file.mode >> 3) & 7;
  } else {
    granted = file.mode & 7;
  }
  return (access & ~granted & (R_OK | W_OK | X_OK)) === 0;
}

/** Throws EACCES unless `creds` may access the file as `access` requests (see mayAccess). */
export function checkAccess(creds: Credentials, file: Permissions, access: number): void {
  if (!mayAccess(creds, file, access)) {
    throw new SyscallError(Errno.EACCES);
  }
}

/**
 * Checks that `creds` may execute the file with execve: it must be a regular
 * file with execute permission for the caller (for root, any execute bit).
 * Throws EACCES otherwise, as Linux does for directories and devices too.
 */
export function checkExecute(creds: Credentials, file: Permissions): void {
  if ((file.mode & S_IFMT) !== S_IFREG) {
    throw new SyscallError(Errno.EACCES);
  }
  checkAccess(creds, file, X_OK);
}

/**
 * Checks the sticky-directory rule before an entry is removed or replaced:
 * in a directory with S_ISVTX, only the owner of the entry, the owner of the
 * directory or root may do it. Throws EPERM otherwise.
 */
export function checkSticky(creds: Credentials, directory: Permissions, entry: Permissions): void {
  if ((directory.mode & S_ISVTX) === 0 || creds.isRoot) {
    return;
  }
  if (creds.uid === entry.uid || creds.uid === directory.uid) {
    return;
  }
  throw new SyscallError(Errno.EPERM);
}

/** Reports whether `creds` owns the file or may act as its owner (CAP_FOWNER). */
export function isOwnerOrRoot(creds: Credentials, file: Permissions): boolean {
  return creds.isRoot || creds.uid === file.uid;
}
