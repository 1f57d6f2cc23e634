import {
  decodeIovecs, decodePollfds, decodeStat, decodeStatx, devMajor, devMinor, FileMode, formatFlags, formatPollEvents,
  formatRlimitValue, formatSaFlags, formatStatMode, IOVEC_SIZE, KernelSigactionLayout, POLLFD_SIZE, RlimitLayout,
  SigHandler, signalName, STAT_SIZE, STATX_SIZE, StatxMask, tableOf, UtsnameLayout,
} from "@sandbox/abi";
import { argAt, type CallContext, formatPointer } from "./context";
import { readCString, readExact, type StraceMemory } from "./memory";
import { quoteBytes, STRING_LIMIT } from "./quote";

/** The number of array elements strace prints before it abbreviates with `...`. */
const ARRAY_LIMIT = 32;

/** The number of environment pointers counted before giving up. */
const ENVP_LIMIT = 1 << 16;

/** Formats a NUL-terminated string at `addr`, cut to `limit` bytes; the address when unreadable. */
export function formatCString(memory: StraceMemory, addr: bigint, limit: number): string {
  if (BigInt.asUintN(64, addr) === 0n) {
    return "NULL";
  }
  const text = readCString(memory, addr, limit);
  if (text === undefined) {
    return formatPointer(addr);
  }
  return quoteBytes(text.bytes, !text.terminated);
}

/** Formats `length` bytes at `addr` as a quoted buffer cut to 32 bytes; the address when unreadable. */
export function formatBuffer(memory: StraceMemory, addr: bigint, length: number): string {
  if (BigInt.asUintN(64, addr) === 0n) {
    return "NULL";
  }
  const printedLength = Math.min(length, STRING_LIMIT);
  const bytes = readExact(memory, addr, printedLength);
  return bytes === undefined ? formatPointer(addr) : quoteBytes(bytes, length > printedLength);
}

/** Formats a 64-bit signal set as strace does: `[INT TERM]`, or `~[...]` listing the signals not in a set of more than 32. */
export function formatSigsetValue(set: bigint): string {
  const bits = BigInt.asUintN(64, set);
  const count = bits.toString(2).split("").filter((bit) => bit === "1").length;
  const inverted = count > 32;
  const listed = inverted ? ~bits & 0xffff_ffff_ffff_ffffn : bits;

  const names: string[] = [];
  for (let signal = 1; signal <= 64; signal++) {
    if ((listed >> BigInt(signal - 1)) & 1n) {
      names.push((signalName(signal) ?? String(signal)).replace(/^SIG/, ""));
    }
  }
  return `${inverted ? "~" : ""}[${names.join(" ")}]`;
}

/** Formats a pointer to a signal set. */
export function formatSigset(context: CallContext, addr: bigint): string {
  const bytes = readExact(context.memory, addr, 8);
  return bytes === undefined ? formatPointer(addr) : formatSigsetValue(viewOf(bytes).getBigUint64(0, true));
}

/** Formats a pointer to the kernel's `struct sigaction`. */
export function formatSigaction(context: CallContext, addr: bigint): string {
  const bytes = readExact(context.memory, addr, KernelSigactionLayout.size);
  if (bytes === undefined) {
    return formatPointer(addr);
  }
  const action = KernelSigactionLayout.decode(bytes);
  const handler = action.handler === BigInt(SigHandler.SIG_DFL) ? "SIG_DFL"
    : action.handler === BigInt(SigHandler.SIG_IGN) ? "SIG_IGN"
    : formatPointer(action.handler);
  const fields = [`sa_handler=${handler}`, `sa_mask=${formatSigsetValue(action.mask)}`, `sa_flags=${formatSaFlags(action.flags)}`];
  if ((action.flags & 0x0400_0000n) !== 0n) {
    fields.push(`sa_restorer=${formatPointer(action.restorer)}`);
  }
  return `{${fields.join(", ")}}`;
}

/** Formats a pointer to `struct stat` as strace's abbreviated form. */
export function formatStat(context: CallContext, addr: bigint): string {
  const bytes = readExact(context.memory, addr, STAT_SIZE);
  if (bytes === undefined) {
    return formatPointer(addr);
  }
  const stat = decodeStat(bytes);
  const type = stat.mode & FileMode.S_IFMT;
  const second = type === FileMode.S_IFCHR || type === FileMode.S_IFBLK
    ? `st_rdev=makedev(0x${devMajor(stat.rdev).toString(16)}, 0x${devMinor(stat.rdev).toString(16)})`
    : `st_size=${stat.size}`;
  return `{st_mode=${formatStatMode(stat.mode)}, ${second}, ...}`;
}

const STATX_MASK_TABLE = tableOf(StatxMask, [
  "STATX_ALL", "STATX_BASIC_STATS", "STATX_TYPE", "STATX_MODE", "STATX_NLINK", "STATX_UID", "STATX_GID", "STATX_ATIME", "STATX_MTIME",
  "STATX_CTIME", "STATX_INO", "STATX_SIZE", "STATX_BLOCKS", "STATX_BTIME", "STATX_MNT_ID", "STATX_DIOALIGN",
  "STATX_MNT_ID_UNIQUE", "STATX_SUBVOL", "STATX_WRITE_ATOMIC", "STATX_DIO_READ_ALIGN",
]);

/** Formats a statx(2) mask, as in `STATX_BASIC_STATS|STATX_BTIME`. */
export function formatStatxMask(mask: bigint): string {
  return formatFlags(BigInt.asUintN(32, mask), STATX_MASK_TABLE);
}

/** Formats a pointer to `struct statx` as strace's abbreviated form. */
export function formatStatx(context: CallContext, addr: bigint): string {
  const bytes = readExact(context.memory, addr, STATX_SIZE);
  if (bytes === undefined) {
    return formatPointer(addr);
  }
  const statx = decodeStatx(bytes);
  return `{stx_mask=${formatStatxMask(BigInt(statx.mask))}, stx_attributes=${statx.attributes === 0n ? "0" : `0x${statx.attributes.toString(16)}`}, ` +
    `stx_mode=${formatStatMode(statx.mode)}, stx_size=${statx.size}, ...}`;
}

/** Formats a pointer to `struct timespec` or `struct timeval`; `fraction` names the second field. */
export function formatTimePair(context: CallContext, addr: bigint, fraction: "tv_nsec" | "tv_usec"): string {
  const bytes = readExact(context.memory, addr, 16);
  if (bytes === undefined) {
    return formatPointer(addr);
  }
  const view = viewOf(bytes);
  return `{tv_sec=${view.getBigInt64(0, true)}, ${fraction}=${view.getBigInt64(8, true)}}`;
}

/** Formats a pointer to `struct rlimit`. */
export function formatRlimit(context: CallContext, addr: bigint): string {
  const bytes = readExact(context.memory, addr, RlimitLayout.size);
  if (bytes === undefined) {
    return formatPointer(addr);
  }
  const limit = RlimitLayout.decode(bytes);
  return `{rlim_cur=${formatRlimitValue(limit.rlim_cur)}, rlim_max=${formatRlimitValue(limit.rlim_max)}}`;
}

/** Formats a pointer to `struct new_utsname` as strace's abbreviated form. */
export function formatUtsname(context: CallContext, addr: bigint): string {
  const bytes = readExact(context.memory, addr, UtsnameLayout.size);
  if (bytes === undefined) {
    return formatPointer(addr);
  }
  const fieldBytes = (index: number) => {
    const field = bytes.subarray(index * 65, index * 65 + 65);
    const end = field.indexOf(0);
    return field.subarray(0, end === -1 ? 65 : end);
  };
  return `{sysname=${quoteBytes(fieldBytes(0), false)}, nodename=${quoteBytes(fieldBytes(1), false)}, ...}`;
}

/** Formats a pollfd array of `count` entries. */
export function formatPollfds(context: CallContext, addr: bigint, count: number): string {
  const printedCount = Math.min(count, ARRAY_LIMIT);
  const bytes = readExact(context.memory, addr, printedCount * POLLFD_SIZE);
  if (bytes === undefined || count < 0) {
    return formatPointer(addr);
  }
  const entries = decodePollfds(bytes, printedCount).map((entry) => `{fd=${entry.fd}, events=${formatPollEvents(entry.events)}}`);
  return `[${entries.join(", ")}${count > printedCount ? ", ..." : ""}]`;
}

/**
 * Formats an iovec array of `count` entries. `dataLength` is the number of
 * bytes the call moved through the array: at most the sum of the lengths for
 * data going in, and the result for data coming out. Each iov_base shows its
 * share of those bytes, or its address when `dataLength` is undefined.
 */
export function formatIovecs(context: CallContext, addr: bigint, count: number, dataLength: number | undefined): string {
  const printedCount = Math.min(count, ARRAY_LIMIT);
  const bytes = readExact(context.memory, addr, printedCount * IOVEC_SIZE);
  if (bytes === undefined || count < 0) {
    return formatPointer(addr);
  }

  let iovecs;
  try {
    iovecs = decodeIovecs(bytes, printedCount);
  } catch {
    return formatPointer(addr);
  }

  let remaining = dataLength ?? Number.MAX_SAFE_INTEGER;
  const entries = iovecs.map((iovec) => {
    const base = BigInt(iovec.base);
    let printedBase: string;
    if (dataLength === undefined) {
      printedBase = formatPointer(base);
    } else {
      const length = Math.min(iovec.length, remaining);
      remaining -= length;
      printedBase = formatBuffer(context.memory, base, length);
    }
    return `{iov_base=${printedBase}, iov_len=${iovec.length}}`;
  });
  return `[${entries.join(", ")}${count > printedCount ? ", ..." : ""}]`;
}

/** Formats execve's argv: the strings of a NULL-terminated pointer array. */
export function formatArgv(context: CallContext, addr: bigint): string {
  if (BigInt.asUintN(64, addr) === 0n) {
    return "NULL";
  }
  const items: string[] = [];
  for (let i = 0; i <= ARRAY_LIMIT; i++) {
    const pointer = readExact(context.memory, addr + BigInt(i * 8), 8);
    if (pointer === undefined) {
      return items.length === 0 ? formatPointer(addr) : `[${items.join(", ")}, ...]`;
    }
    const value = viewOf(pointer).getBigUint64(0, true);
    if (value === 0n) {
      return `[${items.join(", ")}]`;
    }
    if (i === ARRAY_LIMIT) {
      break;
    }
    items.push(formatCString(context.memory, value, STRING_LIMIT));
  }
  return `[${items.join(", ")}, ...]`;
}

/** Formats execve's envp as strace does by default: the address and a count, as in `0x7ffd... /* 35 vars *\/`. */
export function formatEnvp(context: CallContext, addr: bigint): string {
  if (BigInt.asUintN(64, addr) === 0n) {
    return "NULL";
  }
  for (let count = 0; count < ENVP_LIMIT; count++) {
    const pointer = readExact(context.memory, addr + BigInt(count * 8), 8);
    if (pointer === undefined) {
      break;
    }
    if (viewOf(pointer).getBigUint64(0, true) === 0n) {
      return `${formatPointer(addr)} /* ${count} ${count === 1 ? "var" : "vars"} */`;
    }
  }
  return formatPointer(addr);
}

/** Formats a pointer to `count` ints the call filled, as in `[3, 4]`. */
export function formatIntArray(context: CallContext, addr: bigint, count: number): string {
  const bytes = context.failed ? undefined : readExact(context.memory, addr, count * 4);
  if (bytes === undefined) {
    return formatPointer(addr);
  }
  const view = viewOf(bytes);
  const values = Array.from({ length: count }, (_, i) => String(view.getInt32(i * 4, true)));
  return `[${values.join(", ")}]`;
}

/** Returns argument `index` as an element count (a C int), clamped at 0. */
export function countArg(context: CallContext, index: number): number {
  return Math.max(0, Number(BigInt.asIntN(32, argAt(context, index))));
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
