import { Errno as AbiErrno } from "@sandbox/abi";

/**
 * Linux errno values returned by the socket API, as negative numbers where a
 * call fails. The abi package does not list the network ones yet, so they are
 * added here with their Linux values (include/uapi/asm-generic/errno.h).
 */
export const Errno = {
  ...AbiErrno,
  EWOULDBLOCK: 11,
  EPROTO: 71,
  EDESTADDRREQ: 89,
  EMSGSIZE: 90,
  EPROTOTYPE: 91,
  ENOPROTOOPT: 92,
  EPROTONOSUPPORT: 93,
  ESOCKTNOSUPPORT: 94,
  EADDRNOTAVAIL: 99,
  ENETDOWN: 100,
  ENETUNREACH: 101,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  ENOBUFS: 105,
  EISCONN: 106,
  ENOTCONN: 107,
  ESHUTDOWN: 108,
  EHOSTUNREACH: 113,
  EALREADY: 114,
  EINPROGRESS: 115,
} as const;

const names = new Map<number, string>();
for (const [name, value] of Object.entries(Errno)) if (!names.has(value)) names.set(value, name);

/** Returns the Linux name of an errno value (positive or negative), such as "ECONNRESET". */
export function errnoName(errno: number): string {
  return names.get(Math.abs(errno)) ?? `errno ${Math.abs(errno)}`;
}

/** An error carrying a Linux errno value, thrown by the Node-friendly wrappers. */
export class NetError extends Error {
  /** The positive errno value. */
  readonly errno: number;
  /** The errno name, such as "ECONNREFUSED". */
  readonly code: string;

  constructor(errno: number, detail?: string) {
    const code = errnoName(errno);
    super(detail === undefined ? code : `${code}: ${detail}`);
    this.errno = Math.abs(errno);
    this.code = code;
  }
}
