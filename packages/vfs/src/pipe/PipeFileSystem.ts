import { Errno, SyscallError } from "@sandbox/abi";
import { O_CLOEXEC, O_DIRECT, O_NONBLOCK, O_RDONLY, O_WRONLY, S_IFIFO } from "../constants";
import { FileDescription } from "../FileDescription";
import { type Owner, type Stat, type Timespec, timespecNow } from "../Stat";
import { Pipe } from "./Pipe";
import { PipeFile } from "./PipeFile";

/** Flags that pipe2(2) takes. */
const PIPE2_FLAGS = O_CLOEXEC | O_DIRECT | O_NONBLOCK;

/** Options of a PipeFileSystem. */
export interface PipeFileSystemOptions {
  /** st_dev of its pipes. Use VirtualFileSystem.allocateDevice. */
  dev: number;
}

/**
 * The home of anonymous pipes (Linux's pipefs): it numbers their inodes and
 * creates them. It is never mounted, so pipes have no path, and their
 * fstat shows S_IFIFO with mode 0600 and the creator as owner.
 */
export class PipeFileSystem {
  readonly type = "pipefs";
  readonly dev: number;
  private lastIno = 0;

  constructor(options: PipeFileSystemOptions) {
    this.dev = options.dev;
  }

  /**
   * Implements pipe2(2): returns the read end and the write end, each a
   * description with one reference. `flags` may hold O_NONBLOCK (set on both
   * descriptions) and O_CLOEXEC (left for the caller, which puts it on the
   * descriptors). Throws EINVAL for other flags.
   */
  createPipe(flags = 0, owner: Owner = { uid: 0, gid: 0 }): [FileDescription, FileDescription] {
    if ((flags & ~PIPE2_FLAGS) !== 0) {
      throw new SyscallError(Errno.EINVAL, `unknown pipe2 flags 0x${(flags & ~PIPE2_FLAGS).toString(16)}`);
    }
    if ((flags & O_DIRECT) !== 0) {
      // TODO: packet mode (O_DIRECT), where each write is one message, is not supported yet.
      throw new SyscallError(Errno.EINVAL, "pipe2 with O_DIRECT (packet mode) is not supported");
    }

    const pipe = new Pipe();
    const inode = new AnonymousPipeInode(this.dev, ++this.lastIno, owner);
    const statPipe = () => inode.stat();
    const readEnd = new PipeFile(pipe, statPipe, { reader: true, writer: false });
    const writeEnd = new PipeFile(pipe, statPipe, { reader: false, writer: true });
    const nonblock = flags & O_NONBLOCK;
    return [new FileDescription(readEnd, O_RDONLY | nonblock), new FileDescription(writeEnd, O_WRONLY | nonblock)];
  }
}

/** The attributes of one anonymous pipe. */
class AnonymousPipeInode {
  private readonly created: Timespec = timespecNow();

  constructor(
    private readonly dev: number,
    private readonly ino: number,
    private readonly owner: Owner,
  ) {}

  stat(): Stat {
    return {
      dev: this.dev,
      ino: this.ino,
      mode: S_IFIFO | 0o600,
      nlink: 1,
      uid: this.owner.uid,
      gid: this.owner.gid,
      rdev: 0,
      size: 0,
      blksize: 4096,
      blocks: 0,
      atime: { ...this.created },
      mtime: { ...this.created },
      ctime: { ...this.created },
    };
  }
}
