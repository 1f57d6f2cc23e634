import { expect, test } from "vitest";
import { compareWithHeaders } from "../../test/cProbe";
import { ArchPrctlCode, formatArchPrctlCode } from "./archPrctl";

test("arch_prctl codes match headers", () => {
  const { mismatches, missing } = compareWithHeaders(["asm/prctl.h"], ArchPrctlCode);
  expect(mismatches).toEqual([]);
  // Linux 6.1 headers predate the tagged address and shadow stack codes.
  expect(missing.every((name) => /^ARCH_(GET_UNTAG|ENABLE_TAGGED|GET_MAX_TAG|FORCE_TAGGED|SHSTK_)/.test(name))).toBe(true);
});

test("arch_prctl codes format", () => {
  expect(formatArchPrctlCode(0x1002)).toBe("ARCH_SET_FS");
  expect(formatArchPrctlCode(0x9999)).toBe("0x9999 /* ARCH_??? */");
});
