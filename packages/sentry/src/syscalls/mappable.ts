import { Errno, SyscallError } from "@sandbox/abi";
import type { Mappable } from "@sandbox/mm";
import { F_SEAL_FUTURE_WRITE, F_SEAL_WRITE, type FileDescription } from "@sandbox/vfs";
import { cachedMappable, type PageCache } from "../kernel/page-cache";
import type { Task } from "../kernel/task";

const PROT_WRITE = 2;
const MAP_SHARED = 0x01;
const MAP_PRIVATE = 0x02;

/**
 * Adapts an open file to mm's Mappable. Private mappings copy its bytes
 * through pread, except for a file whose content cannot change
 * (FileDescriptionImpl.contentKey): with `cache` given, its mappings share
 * the cached pages. A file that gives its own pages of the memory file
 * (FileDescriptionImpl.translate) is mapped there, shared or copied on write. Each VMA that maps it holds a reference to the
 * description, so the file stays open after its descriptor is closed, as
 * on Linux.
 */
export function mappableOfFile(file: FileDescription, name: string, cache?: PageCache): Mappable {
  const copying = copyingMappable(file, name);
  const key = file.impl.contentKey;
  if (cache !== undefined && key !== undefined) return cachedMappable(cache, key, file.stat().size, copying);
  // A file whose pages live in the memory file (a tmpfs file) maps them.
  // The property is read at each call, since an overlay file may change layer.
  if (file.impl.translate === undefined) return copying;
  const translate: NonNullable<Mappable["translate"]> = (offset, length, write) => {
    const current = file.impl.translate;
    if (current === undefined) throw new SyscallError(Errno.ENODEV, "the file no longer gives its pages");
    return current(offset, length, write);
  };
  return { ...copying, translate };
}

function copyingMappable(file: FileDescription, name: string): Mappable {
  return {
    name,
    addMapping: () => file.incRef(),
    removeMapping: () => file.decRef(),
    readAt(offset: number, target: Uint8Array): number {
      let done = 0;
      while (done < target.length) {
        const count = file.pread(target.subarray(done), offset + done);
        if (count === 0) break;
        done += count;
      }
      return done;
    },
  };
}

/**
 * Returns what mmap(2) of descriptor `fd` maps, after the access checks
 * Linux makes: the file must be open for reading, and a shared writable
 * mapping needs it open for writing.
 */
export function mappableForFd(task: Task, fd: number, prot: number, flags: number): { mappable: Mappable; name: string } {
  const file = task.fdTable.get(fd);
  if (!file.readable) throw new SyscallError(Errno.EACCES, "mmap of a file not open for reading");
  const shared = (flags & (MAP_SHARED | MAP_PRIVATE)) !== MAP_PRIVATE;
  if (shared && (prot & PROT_WRITE) !== 0 && !file.writable) throw new SyscallError(Errno.EACCES);
  if (shared && (prot & PROT_WRITE) !== 0 && ((file.impl.getSeals?.() ?? 0) & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) !== 0) {
    throw new SyscallError(Errno.EPERM, "writable shared mapping of a file sealed against writes");
  }
  const name = file.vd === undefined ? "" : task.kernel.options.vfs.pathOf(task.threadGroup.fs.root, file.vd);
  // NOTE: files of the page cache and of tmpfs can be mapped MAP_SHARED; for others (gofer files that do not cache) mm fails with ENODEV.
  return { mappable: mappableOfFile(file, name, task.kernel.pageCache), name };
}
