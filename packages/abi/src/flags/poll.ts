import { formatFlags, tableOf } from "./format";

/** poll(2) event bits of x86-64 (include/uapi/asm-generic/poll.h). */
export const PollEvents = {
  POLLIN: 0x0001,
  POLLPRI: 0x0002,
  POLLOUT: 0x0004,
  POLLERR: 0x0008,
  POLLHUP: 0x0010,
  POLLNVAL: 0x0020,
  POLLRDNORM: 0x0040,
  POLLRDBAND: 0x0080,
  POLLWRNORM: 0x0100,
  POLLWRBAND: 0x0200,
  POLLMSG: 0x0400,
  POLLREMOVE: 0x1000,
  POLLRDHUP: 0x2000,
} as const;

const POLL_TABLE = tableOf(PollEvents, Object.keys(PollEvents) as (keyof typeof PollEvents)[]);

/** Formats poll events, as in `POLLIN|POLLHUP`. */
export function formatPollEvents(events: number | bigint): string {
  return formatFlags(events, POLL_TABLE);
}
