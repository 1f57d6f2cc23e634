import { expect, test } from "vitest";
import { compareWithHeaders } from "../../test/cProbe";
import { formatPollEvents, PollEvents } from "./poll";

test("poll events match headers", () => {
  const { mismatches, missing } = compareWithHeaders(["poll.h"], PollEvents);
  expect(mismatches).toEqual([]);
  expect(missing).toEqual([]);
});

test("poll events format", () => {
  expect(formatPollEvents(PollEvents.POLLIN | PollEvents.POLLHUP)).toBe("POLLIN|POLLHUP");
});
