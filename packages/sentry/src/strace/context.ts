import type { StraceMemory } from "./memory";

/** The finished system call a formatter decodes. */
export interface CallContext {
  /** The raw argument registers, as unsigned 64-bit values. */
  readonly args: readonly bigint[];
  /** The raw return value, or undefined when the call did not return (exit, execve of a dying task). */
  readonly result: bigint | undefined;
  /** Whether the call returned an error (-4095 to -1); output arguments are then printed as addresses. */
  readonly failed: boolean;
  readonly memory: StraceMemory;
}

/** Returns argument `index` as an unsigned 64-bit value; a missing argument reads as 0. */
export function argAt(context: CallContext, index: number): bigint {
  return BigInt.asUintN(64, context.args[index] ?? 0n);
}

/** Formats an address as strace does: `NULL` for 0, else `0x` and hexadecimal. */
export function formatPointer(value: bigint): string {
  const address = BigInt.asUintN(64, value);
  return address === 0n ? "NULL" : `0x${address.toString(16)}`;
}

/** Formats an undecoded value as C's `%#lx`: `0` or `0x` and hexadecimal. */
export function formatHexValue(value: bigint): string {
  const bits = BigInt.asUintN(64, value);
  return bits === 0n ? "0" : `0x${bits.toString(16)}`;
}

/** Returns the result as a byte count when the call succeeded, else undefined. */
export function successfulLength(context: CallContext): number | undefined {
  if (context.failed || context.result === undefined) {
    return undefined;
  }
  const length = BigInt.asIntN(64, context.result);
  return length >= 0n && length <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(length) : undefined;
}
