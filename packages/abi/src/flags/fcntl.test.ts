import { expect, test } from "vitest";
import { compareWithHeaders, probeMacros } from "../../test/cProbe";
import { FD_CLOEXEC, FcntlCmd, FlockType, formatFcntlCmd, formatFdFlags, formatSealFlags, SealFlags } from "./fcntl";

test("fcntl constants match headers", () => {
  for (const constants of [FcntlCmd, FlockType, SealFlags]) {
    const { mismatches, missing } = compareWithHeaders(["fcntl.h"], constants);
    expect(mismatches).toEqual([]);
    expect(["F_GETOWNER_UIDS", "F_DUPFD_QUERY", "F_CREATED_QUERY", "F_SEAL_EXEC"]).toEqual(expect.arrayContaining(missing));
  }
  expect(probeMacros(["fcntl.h"], ["FD_CLOEXEC"]).get("FD_CLOEXEC")).toBe(BigInt(FD_CLOEXEC));
});

test("fcntl commands format", () => {
  expect(formatFcntlCmd(FcntlCmd.F_SETFD)).toBe("F_SETFD");
  expect(formatFcntlCmd(FcntlCmd.F_DUPFD_CLOEXEC)).toBe("F_DUPFD_CLOEXEC");
  expect(formatFcntlCmd(1234)).toBe("0x4d2 /* F_??? */");
  expect(formatFdFlags(FD_CLOEXEC)).toBe("FD_CLOEXEC");
  expect(formatSealFlags(SealFlags.F_SEAL_SEAL | SealFlags.F_SEAL_WRITE)).toBe("F_SEAL_SEAL|F_SEAL_WRITE");
});
