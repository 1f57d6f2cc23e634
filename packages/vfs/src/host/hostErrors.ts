import { Errno, SyscallError } from "@sandbox/abi";

/**
 * Converts an error thrown by a synchronous `node:fs` call into the
 * SyscallError with the same errno. Any other error is a bug and is
 * returned unchanged, so the caller rethrows it as it is.
 */
export function fromHostError(error: unknown): unknown {
  if (typeof error !== "object" || error === null) {
    return error;
  }
  const { code, errno } = error as NodeJS.ErrnoException;
  if (typeof code === "string" && Object.hasOwn(Errno, code)) {
    return new SyscallError(Errno[code as keyof typeof Errno], (error as Error).message);
  }
  if (typeof errno === "number" && errno < 0) {
    return new SyscallError(-errno, (error as Error).message);
  }
  return error;
}

/** Runs a synchronous host call and rethrows its errno failures as SyscallError. */
export function hostCall<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw fromHostError(error);
  }
}
