import { expect, test } from "vitest";
import { compareWithHeaders } from "../../test/cProbe";
import { CloneFlags, formatCloneFlags, formatUnshareFlags } from "./clone";

test("clone flags match headers", () => {
  const { mismatches, missing } = compareWithHeaders(["sched.h", "linux/sched.h"], CloneFlags);
  expect(mismatches).toEqual([]);
  expect(missing).toEqual([]);
});

test("clone flags format with exit signal", () => {
  expect(formatCloneFlags(CloneFlags.CLONE_CHILD_CLEARTID | CloneFlags.CLONE_CHILD_SETTID | 17))
    .toBe("CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD");
  expect(formatCloneFlags(CloneFlags.CLONE_VM | CloneFlags.CLONE_VFORK | 17)).toBe("CLONE_VM|CLONE_VFORK|SIGCHLD");
  expect(formatCloneFlags(CloneFlags.CLONE_THREAD | CloneFlags.CLONE_DETACHED)).toBe("CLONE_THREAD|0x400000");
  expect(formatCloneFlags(0)).toBe("0");
});

test("unshare flags include CLONE_NEWTIME", () => {
  expect(formatUnshareFlags(CloneFlags.CLONE_NEWTIME | CloneFlags.CLONE_NEWNS)).toBe("CLONE_NEWTIME|CLONE_NEWNS");
});
