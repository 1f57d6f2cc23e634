import { expect, test } from "vitest";
import { probeExpressions } from "../../test/cProbe";
import { decodePollfds, POLLFD_SIZE, PollfdOffset, setPollfdRevents } from "./poll";

test("pollfd layout matches poll.h", () => {
  const values = probeExpressions(["poll.h"], {
    size: "sizeof(struct pollfd)",
    events: "offsetof(struct pollfd, events)",
    revents: "offsetof(struct pollfd, revents)",
  });
  expect(values.get("size")).toBe(BigInt(POLLFD_SIZE));
  expect(values.get("events")).toBe(BigInt(PollfdOffset.events));
  expect(values.get("revents")).toBe(BigInt(PollfdOffset.revents));
});

test("pollfds decode and take revents", () => {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, 3, true);
  view.setUint16(4, 1, true);
  view.setInt32(8, -1, true);
  view.setUint16(12, 4, true);
  setPollfdRevents(bytes, 1, 0x10);
  expect(decodePollfds(bytes, 2)).toEqual([{ fd: 3, events: 1, revents: 0 }, { fd: -1, events: 4, revents: 0x10 }]);
  expect(() => decodePollfds(bytes, 3)).toThrow(RangeError);
  expect(() => setPollfdRevents(bytes, 2, 1)).toThrow(RangeError);
});
