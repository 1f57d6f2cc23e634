import { defineStruct, field, type StructLayout } from "./layout";

/**
 * The kernel's x86-64 `struct sigaction` (32 bytes) that rt_sigaction(2)
 * reads and writes. Its order differs from glibc's: handler, flags,
 * restorer, then the 64-bit mask.
 */
export interface KernelSigaction {
  /** Handler address, or SIG_DFL (0) or SIG_IGN (1). */
  handler: bigint;
  /** SA_* flags. */
  flags: bigint;
  /** Address of the code that calls rt_sigreturn, used with SA_RESTORER. */
  restorer: bigint;
  /** Signals blocked while the handler runs. */
  mask: bigint;
}

/** Layout of the kernel's `struct sigaction`. */
export const KernelSigactionLayout: StructLayout<KernelSigaction> = defineStruct<KernelSigaction>("sigaction", [
  field.u64("handler"),
  field.u64("flags"),
  field.u64("restorer"),
  field.u64("mask"),
]);

/** The size of the kernel's signal set, the only `sigsetsize` rt_sig* calls accept on x86-64. */
export const SIGSET_SIZE = 8;

/** `stack_t` (24 bytes) of sigaltstack(2). */
export interface StackT {
  ss_sp: bigint;
  ss_flags: number;
  ss_size: bigint;
}

/** Layout of `stack_t`, with the 4 padding bytes after `ss_flags`. */
export const StackTLayout: StructLayout<StackT> = defineStruct<StackT>("stack_t", [
  field.u64("ss_sp"),
  field.s32("ss_flags"),
  field.padding(4),
  field.u64("ss_size"),
]);
