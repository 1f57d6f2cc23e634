/** Size of `struct pollfd`: int fd, short events, short revents. */
export const POLLFD_SIZE = 8;

/** Byte offsets of the fields of `struct pollfd`. */
export const PollfdOffset = {
  fd: 0,
  events: 4,
  revents: 6,
} as const;

/** One decoded `struct pollfd`. */
export interface Pollfd {
  fd: number;
  events: number;
  revents: number;
}

/**
 * Decodes `count` pollfd entries from `bytes`, the array as the program
 * passed it. Throws RangeError when `bytes` is shorter than the array.
 */
export function decodePollfds(bytes: Uint8Array, count: number): Pollfd[] {
  const view = viewOf(bytes, count);
  const entries: Pollfd[] = [];
  for (let i = 0; i < count; i++) {
    const base = i * POLLFD_SIZE;
    entries.push({
      fd: view.getInt32(base + PollfdOffset.fd, true),
      events: view.getUint16(base + PollfdOffset.events, true),
      revents: view.getUint16(base + PollfdOffset.revents, true),
    });
  }
  return entries;
}

/** Writes the `revents` field of entry `index` of a pollfd array, leaving `fd` and `events` as they are. */
export function setPollfdRevents(bytes: Uint8Array, index: number, revents: number): void {
  const view = viewOf(bytes, index + 1);
  view.setUint16(index * POLLFD_SIZE + PollfdOffset.revents, revents, true);
}

function viewOf(bytes: Uint8Array, count: number): DataView {
  if (!Number.isInteger(count) || count < 0 || count * POLLFD_SIZE > bytes.byteLength) {
    throw new RangeError(`${count} pollfd entries need ${count * POLLFD_SIZE} bytes, buffer has ${bytes.byteLength}`);
  }
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
