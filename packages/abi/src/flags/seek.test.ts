import { expect, test } from "vitest";
import { compareWithHeaders } from "../../test/cProbe";
import { formatSeekWhence, SeekWhence } from "./seek";

test("seek whence values match headers", () => {
  const { mismatches, missing } = compareWithHeaders(["unistd.h"], SeekWhence);
  expect(mismatches).toEqual([]);
  expect(missing).toEqual([]);
});

test("seek whence formats", () => {
  expect(formatSeekWhence(SeekWhence.SEEK_END)).toBe("SEEK_END");
  expect(formatSeekWhence(9)).toBe("0x9 /* SEEK_??? */");
});
