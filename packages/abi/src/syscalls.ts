import type { SyscallInfo } from "./syscallInfo";
import { SYS, SYSCALLS } from "./syscalls.generated";

export { SYS, SYSCALLS } from "./syscalls.generated";
export type { ArgKind, ArgKindName, ResultKind, SyscallInfo } from "./syscallInfo";

/** The name of an x86-64 system call of Linux 6.18, such as "openat". */
export type SyscallName = keyof typeof SYS;

/** Table entries indexed by number; numbers with no system call (335-423 mostly) are holes. */
const BY_NUMBER: ReadonlyArray<SyscallInfo | undefined> = (() => {
  const entries: (SyscallInfo | undefined)[] = [];
  for (const info of SYSCALLS) {
    entries[info.number] = info;
  }
  return entries;
})();

const BY_NAME: ReadonlyMap<string, SyscallInfo> = new Map(SYSCALLS.map((info) => [info.name, info]));

/** Returns the table entry of system call `nr`, or undefined when x86-64 Linux 6.18 has none. */
export function syscallInfo(nr: number): SyscallInfo | undefined {
  return Number.isInteger(nr) && nr >= 0 ? BY_NUMBER[nr] : undefined;
}

/** Returns the name of system call `nr`, such as "read" for 0, or undefined when there is none. */
export function syscallName(nr: number): string | undefined {
  return syscallInfo(nr)?.name;
}

/** Returns the number of the system call `name`, such as 257 for "openat", or undefined when there is none. */
export function syscallNumber(name: string): number | undefined {
  return BY_NAME.get(name)?.number;
}
