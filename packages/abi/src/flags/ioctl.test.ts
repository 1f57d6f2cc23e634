import { expect, test } from "vitest";
import { compareWithHeaders } from "../../test/cProbe";
import { formatIoctlRequest, IoctlRequest } from "./ioctl";

test("ioctl requests match headers", () => {
  const { mismatches, missing } = compareWithHeaders(["sys/ioctl.h", "asm/termbits.h"], IoctlRequest);
  expect(mismatches).toEqual([]);
  expect(missing).toEqual([]);
});

test("ioctl requests format", () => {
  expect(formatIoctlRequest(0x5401)).toBe("TCGETS");
  expect(formatIoctlRequest(IoctlRequest.TIOCGWINSZ)).toBe("TIOCGWINSZ");
  expect(formatIoctlRequest(0x12345678)).toBe("0x12345678");
});
