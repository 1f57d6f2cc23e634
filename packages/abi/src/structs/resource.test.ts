import { expect, test } from "vitest";
import { probeExpressions } from "../../test/cProbe";
import { RlimitLayout, RusageLayout, SysinfoLayout, TmsLayout } from "./resource";

test("resource struct layouts match headers", () => {
  const values = probeExpressions(["sys/resource.h", "sys/times.h", "linux/kernel.h"], {
    rlimit: "sizeof(struct rlimit)",
    rusage: "sizeof(struct rusage)",
    ru_maxrss: "offsetof(struct rusage, ru_maxrss)",
    ru_nivcsw: "offsetof(struct rusage, ru_nivcsw)",
    tms: "sizeof(struct tms)",
    sysinfo: "sizeof(struct sysinfo)",
    procs: "offsetof(struct sysinfo, procs)",
    totalhigh: "offsetof(struct sysinfo, totalhigh)",
    mem_unit: "offsetof(struct sysinfo, mem_unit)",
  });
  expect(values.get("rlimit")).toBe(BigInt(RlimitLayout.size));
  expect(values.get("rusage")).toBe(BigInt(RusageLayout.size));
  expect(values.get("ru_maxrss")).toBe(32n);
  expect(values.get("ru_nivcsw")).toBe(136n);
  expect(values.get("tms")).toBe(BigInt(TmsLayout.size));
  expect(values.get("sysinfo")).toBe(BigInt(SysinfoLayout.size));
  expect(values.get("procs")).toBe(80n);
  expect(values.get("totalhigh")).toBe(88n);
  expect(values.get("mem_unit")).toBe(104n);
});

test("rlimit keeps RLIM_INFINITY exact", () => {
  const value = { rlim_cur: 8n * 1024n * 1024n, rlim_max: 0xffff_ffff_ffff_ffffn };
  expect(RlimitLayout.decode(RlimitLayout.toBytes(value))).toEqual(value);
});

test("sysinfo round-trips", () => {
  const value = {
    uptime: 100n, loads: [1n, 2n, 3n], totalram: 1n << 40n, freeram: 5n, sharedram: 6n, bufferram: 7n, totalswap: 0n,
    freeswap: 0n, procs: 12, totalhigh: 0n, freehigh: 0n, mem_unit: 1,
  };
  const bytes = SysinfoLayout.toBytes(value);
  expect(new DataView(bytes.buffer).getUint16(80, true)).toBe(12);
  expect(SysinfoLayout.decode(bytes)).toEqual(value);
});
