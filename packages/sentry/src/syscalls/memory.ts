import { Errno, SyscallError } from "@sandbox/abi";
import type { Task } from "../kernel/task";
import type { SyscallGroup } from "./registry";
import { mappableForFd } from "./mappable";

const PAGE_SIZE = 4096;
const MAP_SHARED = 0x01;
const MAP_PRIVATE = 0x02;
const MAP_SHARED_VALIDATE = 0x03;
const MAP_ANONYMOUS = 0x20;
const PROT_KNOWN = 0x7 | 0x01000000 | 0x02000000; // READ|WRITE|EXEC|GROWSDOWN|GROWSUP

/** mmap(2): validates the arguments and hands the mapping to the memory manager. */
function mmap(task: Task): number {
  const addr = task.numberArg(0);
  const length = task.numberArg(1);
  const prot = task.intArg(2);
  const flags = task.intArg(3);
  const fd = task.intArg(4);
  const offset = task.numberArg(5);

  if (length === 0) throw new SyscallError(Errno.EINVAL, "mmap length 0");
  if (offset % PAGE_SIZE !== 0) throw new SyscallError(Errno.EINVAL, "mmap offset not page-aligned");
  if ((prot & ~PROT_KNOWN) !== 0) throw new SyscallError(Errno.EINVAL, "unknown PROT bits");
  const type = flags & MAP_SHARED_VALIDATE;
  if (type !== MAP_SHARED && type !== MAP_PRIVATE && type !== MAP_SHARED_VALIDATE) {
    throw new SyscallError(Errno.EINVAL, "mmap needs MAP_SHARED or MAP_PRIVATE");
  }

  if ((flags & MAP_ANONYMOUS) !== 0) {
    return task.mm.mmap({ addr, length, prot, flags, offset: 0 });
  }
  const file = mappableForFd(task, fd, prot, flags);
  return task.mm.mmap({ addr, length, prot, flags, offset, file: file.mappable, name: file.name });
}

/** munmap(2). */
function munmap(task: Task): number {
  task.mm.munmap(task.numberArg(0), task.numberArg(1));
  return 0;
}

/** mprotect(2). */
function mprotect(task: Task): number {
  task.mm.mprotect(task.numberArg(0), task.numberArg(1), task.intArg(2));
  return 0;
}

/** mremap(2). */
function mremap(task: Task): number {
  return task.mm.mremap(task.numberArg(0), task.numberArg(1), task.numberArg(2), task.intArg(3), task.numberArg(4));
}

/** brk(2): returns the new break, or the unchanged one if the request cannot be met. */
function brk(task: Task): number {
  return task.mm.brk(task.numberArg(0));
}

/** madvise(2). */
function madvise(task: Task): number {
  task.mm.madvise(task.numberArg(0), task.numberArg(1), task.intArg(2));
  return 0;
}

/** msync(2): application memory already lives in the sandbox memfd, so there is nothing to write back. */
function msync(task: Task): number {
  const addr = task.numberArg(0);
  if (addr % PAGE_SIZE !== 0) throw new SyscallError(Errno.EINVAL);
  return 0;
}

/** mlock(2), munlock(2) and friends: sandbox memory is never swapped by the Sentry, so they succeed without effect. */
const mlockNoop = () => 0;

/** The memory-management system calls. */
export const memorySyscalls: SyscallGroup = {
  mmap,
  munmap,
  mprotect,
  mremap,
  brk,
  madvise,
  msync,
  mlock: mlockNoop,
  munlock: mlockNoop,
  mlockall: mlockNoop,
  munlockall: mlockNoop,
};
