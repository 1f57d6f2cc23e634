import { expect, test } from "vitest";
import { compareWithHeaders, probeExpressions } from "../../test/cProbe";
import { formatRlimitResource, formatRlimitValue, RLIM_INFINITY, RLIM_NLIMITS, RlimitResource } from "./rlimit";

test("rlimit resources match headers", () => {
  const { mismatches, missing } = compareWithHeaders(["sys/resource.h"], RlimitResource);
  expect(mismatches).toEqual([]);
  expect(missing).toEqual([]);
  const values = probeExpressions(["sys/resource.h"], { nlimits: "RLIM_NLIMITS", infinity: "RLIM64_INFINITY" });
  expect(values.get("nlimits")).toBe(BigInt(RLIM_NLIMITS));
  expect(BigInt.asUintN(64, values.get("infinity")!)).toBe(RLIM_INFINITY);
});

test("rlimits format like strace", () => {
  expect(formatRlimitResource(RlimitResource.RLIMIT_STACK)).toBe("RLIMIT_STACK");
  expect(formatRlimitValue(8192n * 1024n)).toBe("8192*1024");
  expect(formatRlimitValue(RLIM_INFINITY)).toBe("RLIM64_INFINITY");
  expect(formatRlimitValue(1000n)).toBe("1000");
  expect(formatRlimitValue(0n)).toBe("0");
});
