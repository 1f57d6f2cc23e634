/**
 * The Internet checksum (RFC 1071). The sum is byte-order independent, so the
 * aligned middle of a buffer is summed as native 32-bit words and the result
 * is byte-swapped once. Only the unaligned head and tail are read bytewise.
 */

/** Folds a sum of any size into 16 bits with end-around carry. */
export function foldChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

function swap16(v: number): number {
  return ((v & 0xff) << 8) | (v >>> 8);
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// Sums b[off..end) as a stream whose first byte is the high byte of a word;
// (b.byteOffset + off) must be even.
function sumEven(b: Uint8Array, off: number, end: number): number {
  let sum = 0;
  let i = off;
  if ((b.byteOffset + i) & 2 && end - i >= 2) {
    sum += (b[i] << 8) | b[i + 1];
    i += 2;
  }
  const words = (end - i) >>> 2;
  if (words > 0) {
    const w = new Uint32Array(b.buffer, b.byteOffset + i, words);
    let s0 = 0;
    let s1 = 0;
    let k = 0;
    for (; k + 4 <= words; k += 4) {
      s0 += w[k] + w[k + 1];
      s1 += w[k + 2] + w[k + 3];
    }
    for (; k < words; k++) s0 += w[k];
    const folded = foldChecksum(s0 + s1);
    sum += littleEndian ? swap16(folded) : folded;
    i += words << 2;
  }
  for (; i + 1 < end; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (i < end) sum += b[i] << 8;
  return foldChecksum(sum);
}

/**
 * Returns the 16-bit ones' complement sum (not yet complemented) of
 * b[off..off+len), added to `initial`.
 */
export function checksum(b: Uint8Array, off: number, len: number, initial = 0): number {
  const end = off + len;
  if (len <= 0) return foldChecksum(initial);
  if (((b.byteOffset + off) & 1) === 0) return foldChecksum(initial + sumEven(b, off, end));

  // Odd start: the first byte is a high byte; the rest starts at an odd
  // position of the stream, so its sum comes out byte-swapped.
  const head = b[off] << 8;
  const rest = sumEven(b, off + 1, end);
  return foldChecksum(initial + head + swap16(rest));
}

/** Returns the ones' complement sum of an IPv4 or IPv6 pseudo-header. */
export function pseudoHeaderChecksum(
  src: Uint8Array,
  srcOff: number,
  dst: Uint8Array,
  dstOff: number,
  addrLen: number,
  protocol: number,
  length: number,
): number {
  let sum = protocol + (length & 0xffff) + Math.floor(length / 0x10000);
  for (let i = 0; i < addrLen; i += 2) {
    sum += (src[srcOff + i] << 8) | src[srcOff + i + 1];
    sum += (dst[dstOff + i] << 8) | dst[dstOff + i + 1];
  }
  return foldChecksum(sum);
}
