import { formatEnum, tableOf } from "./format";

/** Resource numbers of getrlimit(2) and prlimit64(2) (include/uapi/asm-generic/resource.h). */
export const RlimitResource = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
} as const;

/** The number of resources (RLIM_NLIMITS). */
export const RLIM_NLIMITS = 16;

/** The limit value that means "no limit", `(u64) -1`. */
export const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;

const RLIMIT_TABLE = tableOf(RlimitResource, Object.keys(RlimitResource) as (keyof typeof RlimitResource)[]);

/** Formats a resource number, as in `RLIMIT_STACK`. */
export function formatRlimitResource(resource: number | bigint): string {
  return formatEnum(resource, RLIMIT_TABLE, "RLIMIT_");
}

/**
 * Formats one limit value as strace does: `RLIM64_INFINITY`, a multiple of
 * 1024 as `8192*1024`, and other values in decimal.
 */
export function formatRlimitValue(value: bigint): string {
  const limit = BigInt.asUintN(64, value);
  if (limit === RLIM_INFINITY) {
    return "RLIM64_INFINITY";
  }
  if (limit !== 0n && limit % 1024n === 0n) {
    return `${limit / 1024n}*1024`;
  }
  return limit.toString();
}
