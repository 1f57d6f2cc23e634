import {
  type ArgKind, type ArgKindName, FcntlCmd, formatAccessMode, formatArchPrctlCode, formatAtFlags, formatClockId, formatCloneFlags, formatDirfd,
  formatEnum, formatFaccessatFlags, formatFcntlCmd, formatFdFlags, formatFutexOp, formatIoctlRequest, formatMadviseAdvice,
  formatMapFlags, formatMode, formatMremapFlags, formatMsyncFlags, formatOpenFlagBits, formatOpenFlags, formatProt, formatRlimitResource,
  formatSealFlags, formatSeekWhence, formatStatMode, formatStatxFlags, formatUnshareFlags, formatWaitIdType,
  formatWaitOptions, formatWaitStatus, OpenFlags, signalName, SigprocmaskHow, tableOf,
} from "@sandbox/abi";
import { argAt, type CallContext, formatHexValue, formatPointer, successfulLength } from "./context";
import { readExact } from "./memory";
import { PATH_LIMIT, STRING_LIMIT } from "./quote";
import {
  countArg, formatArgv, formatBuffer, formatCString, formatEnvp, formatIntArray, formatIovecs, formatPollfds, formatRlimit,
  formatSigaction, formatSigset, formatStat, formatStatx, formatStatxMask, formatTimePair, formatUtsname,
} from "./structs";

const SIGPROCMASK_HOW_TABLE = tableOf(SigprocmaskHow, ["SIG_BLOCK", "SIG_UNBLOCK", "SIG_SETMASK"]);

/** fcntl(2) commands that take no third argument; strace omits it. */
const FCNTL_NO_ARG: ReadonlySet<number> = new Set([
  FcntlCmd.F_GETFD, FcntlCmd.F_GETFL, FcntlCmd.F_GETOWN, FcntlCmd.F_GETSIG, FcntlCmd.F_GETLEASE,
  FcntlCmd.F_GETPIPE_SZ, FcntlCmd.F_GET_SEALS,
]);

/** fcntl(2) commands whose third argument is an int. */
const FCNTL_INT_ARG: ReadonlySet<number> = new Set([
  FcntlCmd.F_DUPFD, FcntlCmd.F_DUPFD_CLOEXEC, FcntlCmd.F_SETOWN, FcntlCmd.F_SETSIG, FcntlCmd.F_SETLEASE,
  FcntlCmd.F_NOTIFY, FcntlCmd.F_SETPIPE_SZ, FcntlCmd.F_DUPFD_QUERY,
]);

/** fcntl(2) commands whose third argument points to a structure. */
const FCNTL_POINTER_ARG: ReadonlySet<number> = new Set([
  FcntlCmd.F_GETLK, FcntlCmd.F_SETLK, FcntlCmd.F_SETLKW, FcntlCmd.F_OFD_GETLK, FcntlCmd.F_OFD_SETLK,
  FcntlCmd.F_OFD_SETLKW, FcntlCmd.F_GETOWN_EX, FcntlCmd.F_SETOWN_EX, FcntlCmd.F_GET_RW_HINT, FcntlCmd.F_SET_RW_HINT,
  FcntlCmd.F_GET_FILE_RW_HINT, FcntlCmd.F_SET_FILE_RW_HINT,
]);

/**
 * Formats argument `index` of a finished call according to its kind. Returns
 * undefined for an argument strace leaves out, such as open's mode without
 * O_CREAT. Output arguments print as addresses when the call failed.
 */
export function formatArgument(kind: ArgKind, index: number, context: CallContext): string | undefined {
  const value = argAt(context, index);
  const [name, related] = splitKind(kind);
  const relatedValue = related === undefined ? 0n : argAt(context, related);
  const int32 = BigInt.asIntN(32, value);
  const uint32 = BigInt.asUintN(32, value);
  const output = (format: () => string) => (context.failed || context.result === undefined ? formatPointer(value) : format());

  switch (name) {
    case "int":
    case "fd":
      return int32.toString();
    case "uint":
      return uint32.toString();
    case "long":
      return BigInt.asIntN(64, value).toString();
    case "ulong":
    case "size":
      return value.toString();
    case "hex":
      return formatHexValue(value);
    case "ptr":
      return formatPointer(value);
    case "dirfd":
      return formatDirfd(value);
    case "path":
      return formatCString(context.memory, value, PATH_LIMIT);
    case "str":
      return formatCString(context.memory, value, STRING_LIMIT);
    case "bufin":
      return formatBuffer(context.memory, value, clampLength(relatedValue));
    case "bufout": {
      const length = successfulLength(context);
      return length === undefined ? formatPointer(value) : formatBuffer(context.memory, value, length);
    }
    case "iovin":
      return formatIovecs(context, value, countArg(context, related!), Number.MAX_SAFE_INTEGER);
    case "iovout":
      return formatIovecs(context, value, countArg(context, related!), successfulLength(context));
    case "oflags":
      return formatOpenFlags(uint32);
    case "oflagbits":
      return formatOpenFlagBits(uint32);
    case "openmode":
      return (relatedValue & BigInt(OpenFlags.O_CREAT | OpenFlags.__O_TMPFILE)) !== 0n ? formatMode(uint32) : undefined;
    case "mode":
      return formatMode(uint32);
    case "statmode":
      return formatStatMode(uint32);
    case "prot":
      return formatProt(value);
    case "mapflags":
      return formatMapFlags(value);
    case "mremapflags":
      return formatMremapFlags(value);
    case "msyncflags":
      return formatMsyncFlags(value);
    case "madvise":
      return formatMadviseAdvice(int32);
    case "cloneflags":
      return formatCloneFlags(value);
    case "unshareflags":
      return formatUnshareFlags(value);
    case "fcntlcmd":
      return formatFcntlCmd(int32);
    case "fcntlarg":
      return formatFcntlArgument(Number(BigInt.asIntN(32, relatedValue)), value);
    case "atflags":
      return formatAtFlags(uint32);
    case "faccessatflags":
      return formatFaccessatFlags(uint32);
    case "statxflags":
      return formatStatxFlags(uint32);
    case "statxmask":
      return formatStatxMask(value);
    case "accessmode":
      return formatAccessMode(uint32);
    case "signal":
      return signalName(Number(int32)) ?? int32.toString();
    case "sigset":
      return formatSigset(context, value);
    case "sighow":
      return formatEnum(int32, SIGPROCMASK_HOW_TABLE, "SIG_");
    case "sigaction":
      return formatSigaction(context, value);
    case "stat":
      return output(() => formatStat(context, value));
    case "statx":
      return output(() => formatStatx(context, value));
    case "timespec":
      return formatTimePair(context, value, "tv_nsec");
    case "timeval":
      return formatTimePair(context, value, "tv_usec");
    case "utsname":
      return output(() => formatUtsname(context, value));
    case "rlimit":
      return formatRlimit(context, value);
    case "rlimitres":
      return formatRlimitResource(uint32);
    case "whence":
      return formatSeekWhence(uint32);
    case "archprctl":
      return formatArchPrctlCode(int32);
    case "clockid":
      return formatClockId(value);
    case "ioctlreq":
      return formatIoctlRequest(value);
    case "futexop":
      return formatFutexOp(value);
    case "waitoptions":
      return formatWaitOptions(uint32);
    case "wstatus":
      return output(() => formatWaitStatusPointer(context, value));
    case "idtype":
      return formatWaitIdType(int32);
    case "pollfds":
      return formatPollfds(context, value, countArg(context, related!));
    case "argv":
      return formatArgv(context, value);
    case "envp":
      return formatEnvp(context, value);
    case "pipefds":
      return formatIntArray(context, value, 2);
    case "intptr":
      return formatIntArray(context, value, 1);
    default: {
      const unhandled: never = name;
      return `${formatHexValue(value)} /* ${String(unhandled)} */`;
    }
  }
}

/** Splits a kind such as "bufin:2" into its name and the index of the argument it refers to. */
function splitKind(kind: ArgKind): [ArgKindName, number | undefined] {
  const colon = kind.indexOf(":");
  if (colon === -1) {
    return [kind as ArgKindName, undefined];
  }
  return [kind.slice(0, colon) as ArgKindName, Number(kind.slice(colon + 1))];
}

/** Treats a size argument as a byte count; values beyond 2^53 only ever print 32 bytes anyway. */
function clampLength(value: bigint): number {
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}

/** Formats the third argument of fcntl(2) as its command decides; undefined when the command takes none. */
function formatFcntlArgument(cmd: number, value: bigint): string | undefined {
  if (FCNTL_NO_ARG.has(cmd)) {
    return undefined;
  }
  if (cmd === FcntlCmd.F_SETFD) {
    return formatFdFlags(BigInt.asUintN(32, value));
  }
  if (cmd === FcntlCmd.F_SETFL) {
    return formatOpenFlags(BigInt.asUintN(32, value));
  }
  if (cmd === FcntlCmd.F_ADD_SEALS) {
    return formatSealFlags(BigInt.asUintN(32, value));
  }
  if (FCNTL_INT_ARG.has(cmd)) {
    return BigInt.asIntN(32, value).toString();
  }
  if (FCNTL_POINTER_ARG.has(cmd)) {
    return formatPointer(value);
  }
  return formatHexValue(value);
}

function formatWaitStatusPointer(context: CallContext, addr: bigint): string {
  const bytes = readExact(context.memory, addr, 4);
  if (bytes === undefined) {
    return formatPointer(addr);
  }
  return formatWaitStatus(new DataView(bytes.buffer, bytes.byteOffset, 4).getInt32(0, true));
}
