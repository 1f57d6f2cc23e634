/**
 * Returns a DataView whose `offset` addresses the same byte as `offset` in
 * `target`, after checking that `size` bytes fit there.
 */
export function toView(target: DataView | Uint8Array, offset: number, size: number, name: string): DataView {
  if (!Number.isInteger(offset) || offset < 0 || offset + size > target.byteLength) {
    throw new RangeError(`struct ${name} needs ${size} bytes at offset ${offset}, buffer has ${target.byteLength}`);
  }
  return target instanceof DataView ? target : new DataView(target.buffer, target.byteOffset, target.byteLength);
}
