import { Errno, SyscallError } from "@sandbox/abi";
import { F_SEAL_EXEC, FileDescription, O_LARGEFILE, O_RDWR } from "@sandbox/vfs";
import type { Task } from "../kernel/task";
import type { SyscallGroup } from "./registry";

const MFD_CLOEXEC = 0x1;
const MFD_ALLOW_SEALING = 0x2;
const MFD_HUGETLB = 0x4;
const MFD_NOEXEC_SEAL = 0x8;
const MFD_EXEC = 0x10;
/** Linux's limit on the name: NAME_MAX less the "memfd:" prefix. */
const MFD_NAME_MAX = 249;

/**
 * memfd_create(2): a regular file with no name in any directory, whose
 * pages live in the memory file, so that processes which map it MAP_SHARED
 * share them. Huge pages are not supported (MFD_HUGETLB gives EINVAL).
 */
function memfdCreate(task: Task): number {
  const flags = task.intArg(1) >>> 0;
  const known = MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL | MFD_EXEC;
  if ((flags & MFD_HUGETLB) !== 0) {
    throw new SyscallError(Errno.EINVAL, "MFD_HUGETLB is not supported");
  }
  if ((flags & ~known) !== 0) {
    throw new SyscallError(Errno.EINVAL, `unknown memfd_create flags 0x${(flags & ~known).toString(16)}`);
  }
  if ((flags & MFD_NOEXEC_SEAL) !== 0 && (flags & MFD_EXEC) !== 0) {
    throw new SyscallError(Errno.EINVAL, "invalid flags: MFD_NOEXEC_SEAL with MFD_EXEC");
  }

  let name: string;
  try {
    name = task.mm.readCString(task.numberArg(0), MFD_NAME_MAX + 1);
  } catch (error) {
    if (error instanceof SyscallError && error.errno === Errno.ENAMETOOLONG) {
      throw new SyscallError(Errno.EINVAL, `invalid memfd name: longer than ${MFD_NAME_MAX} bytes`);
    }
    throw error;
  }

  const owner = { uid: task.credentials.euid, gid: task.credentials.egid };
  // MFD_NOEXEC_SEAL makes the file non-executable and sealing allowed, as on Linux.
  const mode = (flags & MFD_NOEXEC_SEAL) !== 0 ? 0o666 : 0o777;
  const inode = task.kernel.memfds.createUnlinkedFile(mode, owner, `/memfd:${name} (deleted)`);
  if ((flags & (MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL)) !== 0) inode.seals = (flags & MFD_NOEXEC_SEAL) !== 0 ? F_SEAL_EXEC : 0;
  const file = new FileDescription(inode.open(O_RDWR), O_RDWR | O_LARGEFILE);
  try {
    return task.fdTable.install(file, { closeOnExec: (flags & MFD_CLOEXEC) !== 0 });
  } catch (error) {
    file.decRef();
    throw error;
  }
}

/** Anonymous files. */
export const memfdSyscalls: SyscallGroup = { memfd_create: memfdCreate };
