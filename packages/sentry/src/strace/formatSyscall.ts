import { CloneFlags, FutexFlags, FutexOp, syscallInfo, type SyscallInfo } from "@sandbox/abi";
import { formatArgument } from "./arguments";
import { argAt, type CallContext, formatHexValue, formatPointer } from "./context";
import type { StraceMemory } from "./memory";
import { formatResult, isErrorResult } from "./result";

/**
 * Formats one finished system call in strace's format, e.g.
 * `openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3`,
 * `read(3, "root:x:0:0:root:/root:/bin/bash\n"..., 4096) = 1234`,
 * `mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f2a4c000000`,
 * `openat(AT_FDCWD, "/nope", O_RDONLY) = -1 ENOENT (No such file or directory)`,
 * `exit_group(0) = ?`. Pointer arguments are decoded from `memory` as it is
 * after the call; what cannot be read prints as an address. A number with no
 * system call prints as `syscall_0x1c8(0x1, ...)` with every argument in hex.
 */
export function formatSyscall(nr: number, args: readonly bigint[], result: bigint | undefined, memory: StraceMemory): string {
  const context: CallContext = {
    args,
    result,
    failed: result !== undefined && isErrorResult(result),
    memory,
  };

  const info = syscallInfo(nr);
  if (info === undefined) {
    const name = `syscall_0x${(nr >>> 0).toString(16)}`;
    return `${name}(${args.map((arg) => formatHexValue(arg)).join(", ")}) = ${formatResult(result, "int")}`;
  }
  return `${info.name}(${formatArguments(info, context).join(", ")}) = ${formatResult(result, info.result)}`;
}

function formatArguments(info: SyscallInfo, context: CallContext): string[] {
  switch (info.name) {
    case "clone":
      return formatCloneArguments(context);
    case "futex":
      return formatFutexArguments(info, context);
    default:
      return formatByKinds(info, context, info.args.length);
  }
}

/** Formats the first `count` arguments by their kinds, leaving out those strace omits. */
function formatByKinds(info: SyscallInfo, context: CallContext, count: number): string[] {
  const parts: string[] = [];
  for (let index = 0; index < count; index++) {
    const text = formatArgument(info.args[index], index, context);
    if (text !== undefined) {
      parts.push(text);
    }
  }
  return parts;
}

/**
 * Formats clone(2) as strace does on x86-64, where the arguments are flags,
 * stack, parent_tid, child_tid and tls: named fields, and each pointer only
 * when a flag makes the kernel use it.
 */
function formatCloneArguments(context: CallContext): string[] {
  const flags = argAt(context, 0);
  const has = (flag: number) => (flags & BigInt(flag)) !== 0n;
  const parts = [`child_stack=${formatPointer(argAt(context, 1))}`, `flags=${formatArgument("cloneflags", 0, context)}`];
  if (has(CloneFlags.CLONE_PARENT_SETTID) || has(CloneFlags.CLONE_PIDFD)) {
    parts.push(`parent_tid=${formatPointer(argAt(context, 2))}`);
  }
  if (has(CloneFlags.CLONE_SETTLS)) {
    parts.push(`tls=${formatPointer(argAt(context, 4))}`);
  }
  if (has(CloneFlags.CLONE_CHILD_SETTID) || has(CloneFlags.CLONE_CHILD_CLEARTID)) {
    parts.push(`child_tidptr=${formatPointer(argAt(context, 3))}`);
  }
  return parts;
}

/**
 * Formats futex(2) with the arguments its operation uses, as strace does.
 * FUTEX_WAKE takes three and FUTEX_WAIT four. FUTEX_WAIT_BITSET adds the
 * bitset (`val3`) after the timeout, and FUTEX_WAKE_BITSET after the count.
 */
function formatFutexArguments(info: SyscallInfo, context: CallContext): string[] {
  const command = Number(argAt(context, 1) & 0x7fn);
  switch (command) {
    case FutexOp.FUTEX_WAKE:
      return formatByKinds(info, context, 3);
    case FutexOp.FUTEX_WAIT:
      return formatByKinds(info, context, 4);
    case FutexOp.FUTEX_WAIT_BITSET:
      return [...formatByKinds(info, context, 4), formatBitset(argAt(context, 5))];
    case FutexOp.FUTEX_WAKE_BITSET:
      return [...formatByKinds(info, context, 3), formatBitset(argAt(context, 5))];
    default:
      return formatByKinds(info, context, info.args.length);
  }
}

function formatBitset(value: bigint): string {
  const bitset = BigInt.asUintN(32, value);
  return bitset === BigInt(FutexFlags.FUTEX_BITSET_MATCH_ANY) ? "FUTEX_BITSET_MATCH_ANY" : formatHexValue(bitset);
}
