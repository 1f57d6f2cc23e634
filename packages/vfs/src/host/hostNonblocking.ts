import { Errno, SyscallError } from "@sandbox/abi";
import { O_NONBLOCK } from "../constants";
import { getStatusFlags, setStatusFlags } from "./hostFd.native";

interface NonblockingUse {
  users: number;
  /** True if O_NONBLOCK was set here and must be cleared again. */
  setHere: boolean;
}

/**
 * Host descriptors put in O_NONBLOCK mode, by descriptor number. This is a
 * property of the host process, so it is kept once per process.
 */
const uses = new Map<number, NonblockingUse>();

/** True once the exit hook that restores blocking mode is installed. */
let exitHookInstalled = false;

/**
 * Clears O_NONBLOCK again on every descriptor where it was set here, when
 * the process exits without releasing them. Node restores descriptors 0 to
 * 2 at exit by itself, and this hook covers the descriptors above them.
 */
function restoreAllOnExit(): void {
  for (const [fd, use] of uses) {
    if (use.setHere) {
      const flags = getStatusFlags(fd);
      if (flags >= 0) {
        setStatusFlags(fd, flags & ~O_NONBLOCK);
      }
    }
  }
  uses.clear();
}

/**
 * Sets O_NONBLOCK on host descriptor `fd` for one more user. The first user
 * sets it if it was clear; `releaseNonblocking` by the last user clears it
 * again.
 *
 * NOTE: O_NONBLOCK belongs to the host open file description, which other
 * descriptor numbers and other processes (a shell sharing the terminal) may
 * share. They see the flag while a user has it set, and a description shared
 * under two numbers is restored when the first number's last user goes.
 */
export function acquireNonblocking(fd: number): void {
  const use = uses.get(fd);
  if (use !== undefined) {
    use.users++;
    return;
  }
  const flags = getStatusFlags(fd);
  if (flags < 0) {
    throw new SyscallError(-flags, `fcntl(F_GETFL) of host descriptor ${fd} failed`);
  }
  const setHere = (flags & O_NONBLOCK) === 0;
  if (setHere) {
    const result = setStatusFlags(fd, flags | O_NONBLOCK);
    if (result < 0) {
      throw new SyscallError(-result, `fcntl(F_SETFL, O_NONBLOCK) of host descriptor ${fd} failed`);
    }
  }
  uses.set(fd, { users: 1, setHere });
  if (setHere && !exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", restoreAllOnExit);
  }
}

/** Drops one user of `fd` and restores its blocking mode after the last one. */
export function releaseNonblocking(fd: number): void {
  const use = uses.get(fd);
  if (use === undefined) {
    throw new SyscallError(Errno.EBADF, `host descriptor ${fd} was not put in nonblocking mode`);
  }
  use.users--;
  if (use.users > 0) {
    return;
  }
  uses.delete(fd);
  if (use.setHere) {
    const flags = getStatusFlags(fd);
    if (flags >= 0) {
      setStatusFlags(fd, flags & ~O_NONBLOCK);
    }
  }
}
