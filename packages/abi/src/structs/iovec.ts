import { toView } from "./view";

/** Size of `struct iovec`: a pointer and a length. */
export const IOVEC_SIZE = 16;

/** The maximum number of iovec entries one call accepts (UIO_MAXIOV). */
export const UIO_MAXIOV = 1024;

/** Byte offsets of the fields of `struct iovec`. */
export const IovecOffset = {
  iov_base: 0,
  iov_len: 8,
} as const;

/** One decoded `struct iovec`. Addresses and lengths are numbers: user addresses fit in 47 bits. */
export interface Iovec {
  base: number;
  length: number;
}

/**
 * Decodes `count` iovec entries from the bytes of the array the program
 * passed. Throws RangeError when `bytes` is shorter than the array or when a
 * value does not fit in 53 bits, which no valid user address or length does.
 */
export function decodeIovecs(bytes: Uint8Array, count: number): Iovec[] {
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`invalid iovec count ${count}`);
  }
  const view = toView(bytes, 0, count * IOVEC_SIZE, "iovec array");
  const entries: Iovec[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const base = view.getBigUint64(i * IOVEC_SIZE + IovecOffset.iov_base, true);
    const length = view.getBigUint64(i * IOVEC_SIZE + IovecOffset.iov_len, true);
    if (base > BigInt(Number.MAX_SAFE_INTEGER) || length > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new RangeError(`iovec ${i} has an address or length beyond 2^53`);
    }
    entries[i] = { base: Number(base), length: Number(length) };
  }
  return entries;
}

/** Writes iovec entries into `target` at `offset` and returns the number of bytes written. */
export function encodeIovecs(target: Uint8Array, offset: number, entries: readonly Iovec[]): number {
  const size = entries.length * IOVEC_SIZE;
  const view = toView(target, offset, size, "iovec array");
  entries.forEach((entry, i) => {
    view.setBigUint64(offset + i * IOVEC_SIZE + IovecOffset.iov_base, BigInt(entry.base), true);
    view.setBigUint64(offset + i * IOVEC_SIZE + IovecOffset.iov_len, BigInt(entry.length), true);
  });
  return size;
}
