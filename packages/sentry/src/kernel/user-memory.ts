import { Errno, SyscallError } from "@sandbox/abi";
import type { MemoryManager } from "@sandbox/mm";

const PAGE_SIZE = 4096;
/** PATH_MAX, including the terminating NUL. */
export const PATH_MAX = 4096;

/**
 * Reads a NUL-terminated byte string from application memory as a latin1
 * string (one character per byte), the form the VFS takes paths in.
 * ENAMETOOLONG if no NUL comes within `maxLength` bytes, EFAULT if the
 * memory is unreadable before it.
 */
export function readByteString(mm: MemoryManager, addr: number, maxLength: number = PATH_MAX): string {
  if (addr === 0) throw new SyscallError(Errno.EFAULT, "NULL string pointer");
  const chunks: Uint8Array[] = [];
  let total = 0;
  let cursor = addr;
  while (total < maxLength) {
    const length = Math.min(maxLength - total, PAGE_SIZE - (cursor % PAGE_SIZE));
    const chunk = mm.copyIn(cursor, length);
    const nul = chunk.indexOf(0);
    if (nul >= 0) {
      chunks.push(chunk.subarray(0, nul));
      return Buffer.concat(chunks).toString("latin1");
    }
    chunks.push(chunk);
    total += length;
    cursor += length;
  }
  throw new SyscallError(Errno.ENAMETOOLONG);
}

/** Reads a NULL-terminated array of string pointers (argv or envp of execve). */
export function readStringArray(mm: MemoryManager, addr: number, maxCount = 0x7fff_ffff): string[] {
  const strings: string[] = [];
  if (addr === 0) return strings;
  for (let index = 0; ; index++) {
    if (index >= maxCount) throw new SyscallError(Errno.E2BIG);
    const pointer = Number(new DataView(mm.copyIn(addr + index * 8, 8).buffer).getBigUint64(0, true));
    if (pointer === 0) return strings;
    strings.push(readByteString(mm, pointer, 128 * 1024));
  }
}

/** Writes a 32-bit little-endian integer to application memory. */
export function writeInt32(mm: MemoryManager, addr: number, value: number): void {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setInt32(0, value, true);
  mm.copyOut(addr, bytes);
}

/** Writes a 64-bit little-endian integer to application memory. */
export function writeUint64(mm: MemoryManager, addr: number, value: bigint): void {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
  mm.copyOut(addr, bytes);
}
