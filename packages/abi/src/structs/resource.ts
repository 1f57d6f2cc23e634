import { defineStruct, field, type StructLayout } from "./layout";
import { Timeval } from "./time";

/** `struct rlimit` (16 bytes) of getrlimit(2) and prlimit64(2); RLIM_INFINITY is 2^64 - 1. */
export interface Rlimit {
  rlim_cur: bigint;
  rlim_max: bigint;
}

/** Layout of `struct rlimit` (the same as `struct rlimit64` on x86-64). */
export const RlimitLayout: StructLayout<Rlimit> = defineStruct<Rlimit>("rlimit", [field.u64("rlim_cur"), field.u64("rlim_max")]);

/** `struct rusage` (144 bytes) of getrusage(2) and wait4(2). */
export interface Rusage {
  ru_utime: Timeval;
  ru_stime: Timeval;
  ru_maxrss: bigint;
  ru_ixrss: bigint;
  ru_idrss: bigint;
  ru_isrss: bigint;
  ru_minflt: bigint;
  ru_majflt: bigint;
  ru_nswap: bigint;
  ru_inblock: bigint;
  ru_oublock: bigint;
  ru_msgsnd: bigint;
  ru_msgrcv: bigint;
  ru_nsignals: bigint;
  ru_nvcsw: bigint;
  ru_nivcsw: bigint;
}

/** Layout of `struct rusage`. */
export const RusageLayout: StructLayout<Rusage> = defineStruct<Rusage>("rusage", [
  field.struct([field.s64("tv_sec"), field.s64("tv_usec")], "ru_utime"),
  field.struct([field.s64("tv_sec"), field.s64("tv_usec")], "ru_stime"),
  field.s64("ru_maxrss"),
  field.s64("ru_ixrss"),
  field.s64("ru_idrss"),
  field.s64("ru_isrss"),
  field.s64("ru_minflt"),
  field.s64("ru_majflt"),
  field.s64("ru_nswap"),
  field.s64("ru_inblock"),
  field.s64("ru_oublock"),
  field.s64("ru_msgsnd"),
  field.s64("ru_msgrcv"),
  field.s64("ru_nsignals"),
  field.s64("ru_nvcsw"),
  field.s64("ru_nivcsw"),
]);

/** `struct tms` (32 bytes) of times(2), in clock ticks. */
export interface Tms {
  tms_utime: bigint;
  tms_stime: bigint;
  tms_cutime: bigint;
  tms_cstime: bigint;
}

/** Layout of `struct tms`. */
export const TmsLayout: StructLayout<Tms> = defineStruct<Tms>("tms", [
  field.s64("tms_utime"),
  field.s64("tms_stime"),
  field.s64("tms_cutime"),
  field.s64("tms_cstime"),
]);

/** `struct sysinfo` (112 bytes) of sysinfo(2); memory sizes are in units of `mem_unit` bytes. */
export interface Sysinfo {
  uptime: bigint;
  loads: bigint[];
  totalram: bigint;
  freeram: bigint;
  sharedram: bigint;
  bufferram: bigint;
  totalswap: bigint;
  freeswap: bigint;
  procs: number;
  totalhigh: bigint;
  freehigh: bigint;
  mem_unit: number;
}

/** Layout of `struct sysinfo`, with the padding x86-64 puts after `procs` and at the end. */
export const SysinfoLayout: StructLayout<Sysinfo> = defineStruct<Sysinfo>("sysinfo", [
  field.s64("uptime"),
  field.array(field.u64(), 3, "loads"),
  field.u64("totalram"),
  field.u64("freeram"),
  field.u64("sharedram"),
  field.u64("bufferram"),
  field.u64("totalswap"),
  field.u64("freeswap"),
  field.u16("procs"),
  field.padding(6),
  field.u64("totalhigh"),
  field.u64("freehigh"),
  field.u32("mem_unit"),
  field.padding(4),
]);
