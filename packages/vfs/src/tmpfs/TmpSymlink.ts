import { Errno, SyscallError } from "@sandbox/abi";
import { S_IFLNK } from "../constants";
import type { FileDescriptionImpl } from "../FileSystem";
import type { Owner } from "../Stat";
import { TmpInode } from "./TmpInode";
import type { TmpFileSystem } from "./TmpFileSystem";

/** A symbolic link of a tmpfs. Its mode is always 0777, as on Linux. */
export class TmpSymlink extends TmpInode {
  constructor(
    fs: TmpFileSystem,
    readonly target: string,
    owner: Owner,
  ) {
    super(fs, S_IFLNK | 0o777, owner);
  }

  get size(): number {
    return this.target.length;
  }

  override readlink(): string {
    return this.target;
  }

  open(_flags: number): FileDescriptionImpl {
    throw new SyscallError(Errno.ELOOP);
  }
}
