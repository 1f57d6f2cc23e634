/** Sequence number arithmetic modulo 2^32 (RFC 9293 section 3.4). */

/** a < b in sequence space. */
export function seqLT(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** a <= b in sequence space. */
export function seqLEQ(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

/** a > b in sequence space. */
export function seqGT(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

/** a >= b in sequence space. */
export function seqGEQ(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

/** a + n modulo 2^32. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** Returns the distance b - a as a signed 32-bit number. */
export function seqDiff(b: number, a: number): number {
  return (b - a) | 0;
}
