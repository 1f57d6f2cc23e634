import { Errno } from "@sandbox/abi";

/**
 * Returns the positive errno of an error that a synchronous `node:fs` call
 * threw, or undefined for any other error.
 */
export function hostErrnoOf(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null) {
    return undefined;
  }
  const { code, errno } = error as NodeJS.ErrnoException;
  if (typeof code === "string" && Object.hasOwn(Errno, code)) {
    return Errno[code as keyof typeof Errno];
  }
  if (typeof errno === "number" && errno < 0) {
    return -errno;
  }
  return undefined;
}
