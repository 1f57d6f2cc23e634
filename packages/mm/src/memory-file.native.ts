// Host system calls that back the sandbox memory file, bound through koffi.
// This is the only file of the package that touches native code: every
// function here takes and returns plain numbers.
import koffi from "koffi";

const libc = koffi.load("libc.so.6");

const memfdCreateNative = libc.func("int memfd_create(const char *name, unsigned int flags)");
const fallocateNative = libc.func("int fallocate(int fd, int mode, int64_t offset, int64_t len)");

/** MFD_CLOEXEC from include/uapi/linux/memfd.h. */
export const MFD_CLOEXEC = 0x0001;

/** FALLOC_FL_KEEP_SIZE from include/uapi/linux/falloc.h. */
export const FALLOC_FL_KEEP_SIZE = 0x01;

/** FALLOC_FL_PUNCH_HOLE from include/uapi/linux/falloc.h. */
export const FALLOC_FL_PUNCH_HOLE = 0x02;

/** memfd_create(2); returns the new descriptor, or -errno on failure. */
export function memfdCreate(name: string, flags: number): number {
  const fd: number = memfdCreateNative(name, flags);
  return fd < 0 ? -koffi.errno() : fd;
}

/** fallocate(2) with 64-bit offset and length; returns 0, or -errno on failure. */
export function fallocate(fd: number, mode: number, offset: number, length: number): number {
  const result: number = fallocateNative(fd, mode, offset, length);
  return result < 0 ? -koffi.errno() : 0;
}
