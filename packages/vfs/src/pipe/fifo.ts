import { Errno, SyscallError } from "@sandbox/abi";
import { O_ACCMODE, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY } from "../constants";
import type { Stat } from "../Stat";
import type { Pipe } from "./Pipe";
import { PipeFile } from "./PipeFile";

/**
 * Opens the FIFO whose pipe is `pipe` with open flags `flags`.
 *
 * Linux blocks an open without O_NONBLOCK until the other side opens. Here
 * the open returns at once, and the wait moves to the first I/O: until a
 * peer opens (even one that closes again), reads and writes throw EAGAIN,
 * readiness reports nothing, and the pipe's waiters wake when the peer
 * comes. A Sentry that must block in open itself awaits `watch` while
 * `waitingForPeer` is true. With O_NONBLOCK the rules are Linux's: a read
 * end opens at once, and a write end fails with ENXIO when no reader is
 * open. O_RDWR opens both ends and never waits.
 */
export function openFifo(pipe: Pipe, flags: number, statPipe: () => Stat): PipeFile {
  const nonblocking = (flags & O_NONBLOCK) !== 0;
  switch (flags & O_ACCMODE) {
    case O_RDONLY:
      return new PipeFile(pipe, statPipe, { reader: true, writer: false, waitForPeer: !nonblocking && pipe.writers === 0 });
    case O_WRONLY:
      if (nonblocking && pipe.readers === 0) {
        throw new SyscallError(Errno.ENXIO, "no process has the FIFO open for reading");
      }
      return new PipeFile(pipe, statPipe, { reader: false, writer: true, waitForPeer: pipe.readers === 0 });
    case O_RDWR:
      return new PipeFile(pipe, statPipe, { reader: true, writer: true });
    default:
      throw new SyscallError(Errno.EINVAL, "invalid access mode for a FIFO");
  }
}
