/** Access to the traced program's memory for decoding pointer arguments. */
export interface StraceMemory {
  /** Reads up to `length` bytes at a user address; undefined when unreadable. */
  read(addr: number, length: number): Uint8Array | undefined;
}

/** The page size used to split reads so that a string ending before an unmapped page still decodes. */
const PAGE_SIZE = 4096;

/** Converts an argument to a user address, or undefined when it cannot be one (beyond 2^53). */
export function toAddress(value: bigint): number | undefined {
  const address = BigInt.asUintN(64, value);
  return address <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(address) : undefined;
}

/** Reads exactly `length` bytes at `addr`, or returns undefined when any of them is unreadable. */
export function readExact(memory: StraceMemory, addr: bigint, length: number): Uint8Array | undefined {
  const address = toAddress(addr);
  if (address === undefined || address === 0) {
    return undefined;
  }
  if (length === 0) {
    return new Uint8Array(0);
  }
  const bytes = memory.read(address, length);
  return bytes !== undefined && bytes.byteLength >= length ? bytes.subarray(0, length) : undefined;
}

/**
 * Reads at most `length` bytes at `addr` page by page and returns the bytes
 * before the first unreadable page. Returns undefined when the first byte is unreadable.
 */
export function readPrefix(memory: StraceMemory, addr: bigint, length: number): Uint8Array | undefined {
  const address = toAddress(addr);
  if (address === undefined || address === 0) {
    return undefined;
  }

  const chunks: Uint8Array[] = [];
  let total = 0;
  while (total < length) {
    const at = address + total;
    const chunkLength = Math.min(length - total, PAGE_SIZE - (at % PAGE_SIZE));
    const chunk = memory.read(at, chunkLength);
    if (chunk === undefined || chunk.byteLength === 0) {
      break;
    }
    chunks.push(chunk.subarray(0, chunkLength));
    total += Math.min(chunk.byteLength, chunkLength);
    if (chunk.byteLength < chunkLength) {
      break;
    }
  }
  if (total === 0) {
    return length === 0 ? new Uint8Array(0) : undefined;
  }
  return concat(chunks, total);
}

/** A NUL-terminated string read from user memory. */
export interface CString {
  /** The bytes before the NUL, or the first `max` bytes when no NUL came first. */
  readonly bytes: Uint8Array;
  /** Whether a NUL ended the string within `max` bytes. */
  readonly terminated: boolean;
}

/** Reads a NUL-terminated string of at most `max` bytes, page by page; undefined when unreadable. */
export function readCString(memory: StraceMemory, addr: bigint, max: number): CString | undefined {
  const address = toAddress(addr);
  if (address === undefined || address === 0) {
    return undefined;
  }

  const chunks: Uint8Array[] = [];
  let total = 0;
  while (total < max) {
    const at = address + total;
    const chunkLength = Math.min(max - total, PAGE_SIZE - (at % PAGE_SIZE));
    const chunk = memory.read(at, chunkLength);
    if (chunk === undefined || chunk.byteLength === 0) {
      break;
    }
    const end = chunk.subarray(0, chunkLength).indexOf(0);
    if (end !== -1) {
      chunks.push(chunk.subarray(0, end));
      return { bytes: concat(chunks, total + end), terminated: true };
    }
    chunks.push(chunk.subarray(0, chunkLength));
    total += Math.min(chunk.byteLength, chunkLength);
    if (chunk.byteLength < chunkLength) {
      break;
    }
  }
  if (total === 0 && max > 0) {
    return undefined;
  }
  return { bytes: concat(chunks, total), terminated: false };
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) {
    return chunks[0].subarray(0, total);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    const length = Math.min(chunk.byteLength, total - offset);
    bytes.set(chunk.subarray(0, length), offset);
    offset += length;
  }
  return bytes;
}
