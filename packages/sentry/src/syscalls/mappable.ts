import { Errno, SyscallError } from "@sandbox/abi";
import type { Mappable } from "@sandbox/mm";
import type { FileDescription } from "@sandbox/vfs";
import { cachedMappable, type PageCache } from "../kernel/page-cache";
import type { Task } from "../kernel/task";

const PROT_WRITE = 2;
const MAP_SHARED = 0x01;
const MAP_PRIVATE = 0x02;

/**
 * Adapts an open file to mm's Mappable. Private mappings copy its bytes
 * through pread, except for a file whose content cannot change
 * (FileDescriptionImpl.contentKey): with `cache` given, its mappings share
 * the cached pages. Each VMA that maps it holds a reference to the
 * description, so the file stays open after its descriptor is closed, as
 * on Linux.
 */
export function mappableOfFile(file: FileDescription, name: string, cache?: PageCache): Mappable {
  const copying = copyingMappable(file, name);
  const key = file.impl.contentKey;
  if (cache === undefined || key === undefined) return copying;
  return cachedMappable(cache, key, file.stat().size, copying);
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
  const name = file.vd === undefined ? "" : task.kernel.options.vfs.pathOf(task.threadGroup.fs.root, file.vd);
  // NOTE: only files of the page cache can be mapped MAP_SHARED; for others mm fails with ENODEV until they provide their pages.
  return { mappable: mappableOfFile(file, name, task.kernel.pageCache), name };
}
