import { hostErrnoOf } from "../hostErrno";

/** A request failed with a Linux errno, which the gofer sends back in the reply header. */
export class GoferError extends Error {
  constructor(
    /** The positive errno value. */
    readonly errno: number,
    detail?: string,
  ) {
    super(detail ?? `errno ${errno}`);
    this.name = "GoferError";
  }
}

/**
 * Returns the errno of an error thrown by a synchronous `node:fs` call or by
 * this package, or undefined for any other error (a bug).
 */
export function errnoOf(error: unknown): number | undefined {
  return error instanceof GoferError ? error.errno : hostErrnoOf(error);
}

/** Returns `result` unless it is a negative errno, which it throws as a GoferError. */
export function checkResult(result: number, call: string): number {
  if (result < 0) {
    throw new GoferError(-result, `${call} failed`);
  }
  return result;
}
