import { expect, test } from "vitest";
import { compareWithHeaders } from "../../test/cProbe";
import { AuxvType, formatAuxvType } from "./auxv";

test("auxv types match headers", () => {
  const { mismatches, missing } = compareWithHeaders(["elf.h", "linux/auxvec.h"], AuxvType);
  expect(mismatches).toEqual([]);
  expect(["AT_HWCAP3", "AT_HWCAP4"]).toEqual(expect.arrayContaining(missing));
});

test("auxv types format", () => {
  expect(formatAuxvType(AuxvType.AT_SYSINFO_EHDR)).toBe("AT_SYSINFO_EHDR");
});
