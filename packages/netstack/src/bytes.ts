/**
 * Big-endian field access on byte buffers. Wire headers are read and written
 * through these helpers at named offsets, never parsed into objects.
 */

/** Reads the 16-bit big-endian value at `off`. */
export function get16(b: Uint8Array, off: number): number {
  return (b[off] << 8) | b[off + 1];
}

/** Writes `v` as a 16-bit big-endian value at `off`. */
export function put16(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 8;
  b[off + 1] = v;
}

/** Reads the 32-bit big-endian value at `off` as an unsigned number. */
export function get32(b: Uint8Array, off: number): number {
  return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}

/** Writes `v` as a 32-bit big-endian value at `off`. */
export function put32(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24;
  b[off + 1] = v >>> 16;
  b[off + 2] = v >>> 8;
  b[off + 3] = v;
}

/** Reports whether `a[aOff..aOff+len)` equals `b[bOff..bOff+len)`; used for addresses only. */
export function bytesEqual(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}
