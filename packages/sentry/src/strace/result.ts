import { errnoMessage, errnoName, MAX_ERRNO, type ResultKind } from "@sandbox/abi";
import { formatHexValue } from "./context";

/** The errno values of an interrupted call that the kernel restarts or turns into EINTR; strace prints them after `?`. */
const RESTART_ERRNOS: ReadonlySet<number> = new Set([512, 513, 514, 516]);

/** Returns whether a raw return value is an error, -4095 to -1. */
export function isErrorResult(result: bigint): boolean {
  const value = BigInt.asIntN(64, result);
  return value < 0n && value >= BigInt(-MAX_ERRNO);
}

/**
 * Formats a return value as strace does: `?` when the call did not return,
 * `-1 ENOENT (No such file or directory)` for errors, hexadecimal for calls
 * that return addresses, and signed decimal otherwise.
 */
export function formatResult(result: bigint | undefined, kind: ResultKind): string {
  if (result === undefined || kind === "none") {
    return "?";
  }
  if (isErrorResult(result)) {
    const errno = Number(-BigInt.asIntN(64, result));
    const name = errnoName(errno) ?? `ERRNO_${errno}`;
    const prefix = RESTART_ERRNOS.has(errno) ? "?" : "-1";
    return `${prefix} ${name} (${errnoMessage(errno)})`;
  }
  if (kind === "hex") {
    return formatHexValue(result);
  }
  return BigInt.asIntN(64, result).toString();
}
