import { Errno, PollEvents, SyscallError } from "@sandbox/abi";
import { O_ACCMODE, O_RDONLY, O_WRONLY } from "../constants";
import type { FileDescription } from "../FileDescription";
import type { FileDescriptionImpl } from "../FileSystem";
import type { Stat } from "../Stat";
import { type Pipe, WOULD_BLOCK } from "./Pipe";

/** The ends that a PipeFile opens, and whether it waits for a peer. */
export interface PipeFileOptions {
  /** Open a read end. */
  reader: boolean;
  /** Open a write end. */
  writer: boolean;
  /**
   * The open of a FIFO without O_NONBLOCK that found no peer: until a peer
   * opens, reads and writes throw EAGAIN instead of returning end of file or
   * EPIPE, and readiness reports nothing (see openFifo).
   */
  waitForPeer?: boolean;
}

/**
 * One open end of a pipe: the read end, the write end, or both for a FIFO
 * opened O_RDWR. It is a stream, so offsets are ignored and lseek fails
 * with ESPIPE. Reads and writes never block (see Pipe), and readiness
 * follows Linux: POLLIN with data, POLLOUT with room for PIPE_BUF bytes,
 * POLLHUP on a read end once every writer is gone, POLLERR on a write end
 * once every reader is gone.
 *
 * The pipe counts this end as open from construction until `release`.
 */
export class PipeFile implements FileDescriptionImpl {
  readonly seekable = false;
  private readonly reader: boolean;
  private readonly writer: boolean;
  /** pipe.writerOpens when this read end opened: POLLHUP needs a writer that came after. */
  private readonly writerOpensAtOpen: number;
  /** pipe.readerOpens (for a write end) or pipe.writerOpens (for a read end) to wait past, or -1. */
  private peerOpensAtOpen = -1;
  private released = false;

  constructor(
    readonly pipe: Pipe,
    private readonly statPipe: () => Stat,
    options: PipeFileOptions,
  ) {
    this.reader = options.reader;
    this.writer = options.writer;
    if (!this.reader && !this.writer) {
      throw new Error("PipeFile opened as neither reader nor writer");
    }
    if (options.waitForPeer === true) {
      this.peerOpensAtOpen = this.reader ? pipe.writerOpens : pipe.readerOpens;
    }
    this.writerOpensAtOpen = pipe.writerOpens;
    if (this.reader) {
      pipe.openReader();
    }
    if (this.writer) {
      pipe.openWriter();
    }
  }

  /** Reports whether this end still waits for the first peer since its open (a blocking FIFO open). */
  get waitingForPeer(): boolean {
    if (this.peerOpensAtOpen < 0) {
      return false;
    }
    const peerOpens = this.reader ? this.pipe.writerOpens : this.pipe.readerOpens;
    if (peerOpens !== this.peerOpensAtOpen) {
      this.peerOpensAtOpen = -1;
      return false;
    }
    return true;
  }

  read(dst: Uint8Array, _offset: number): number {
    if (!this.reader) {
      throw new SyscallError(Errno.EBADF);
    }
    if (dst.length > 0 && this.pipe.size === 0 && this.waitingForPeer) {
      throw WOULD_BLOCK;
    }
    return this.pipe.read(dst);
  }

  write(src: Uint8Array, _offset: number): number {
    if (!this.writer) {
      throw new SyscallError(Errno.EBADF);
    }
    if (this.pipe.readers === 0 && this.waitingForPeer) {
      throw WOULD_BLOCK;
    }
    return this.pipe.write(src);
  }

  stat(): Stat {
    return this.statPipe();
  }

  readiness(mask: number): number {
    if (this.waitingForPeer) {
      return 0;
    }
    let ready = 0;
    if (this.reader) {
      if (this.pipe.readable) {
        ready |= PollEvents.POLLIN | PollEvents.POLLRDNORM;
      }
      if (this.pipe.writers === 0 && this.pipe.writerOpens !== this.writerOpensAtOpen) {
        ready |= PollEvents.POLLHUP;
      }
    }
    if (this.writer) {
      if (this.pipe.writable) {
        ready |= PollEvents.POLLOUT | PollEvents.POLLWRNORM;
      }
      if (this.pipe.readers === 0) {
        ready |= PollEvents.POLLERR;
      }
    }
    return ready & (mask | PollEvents.POLLHUP | PollEvents.POLLERR);
  }

  watch(mask: number, waiter: () => void): () => void {
    return this.pipe.queue.add(mask, waiter);
  }

  /**
   * Opens the pipe again, as an open of /proc/self/fd/N does: the access
   * mode of `flags` picks the ends. Unlike a FIFO, an anonymous pipe opens
   * at once without a peer (Linux's fifo_open skips the wait for pipes).
   */
  reopen(flags: number): FileDescriptionImpl {
    const accessMode = flags & O_ACCMODE;
    return new PipeFile(this.pipe, this.statPipe, { reader: accessMode !== O_WRONLY, writer: accessMode !== O_RDONLY });
  }

  release(): void {
    if (this.released) {
      return;
    }
    this.released = true;
    if (this.reader) {
      this.pipe.closeReader();
    }
    if (this.writer) {
      this.pipe.closeWriter();
    }
  }
}

/** Returns the pipe behind `file` (a pipe end or an open FIFO), for F_GETPIPE_SZ, F_SETPIPE_SZ and FIONREAD. */
export function pipeOf(file: FileDescription): Pipe | undefined {
  return file.impl instanceof PipeFile ? file.impl.pipe : undefined;
}
