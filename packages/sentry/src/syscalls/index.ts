import { fileSyscalls } from "./file";
import { fsSyscalls } from "./fs";
import { infoSyscalls } from "./info";
import { memorySyscalls } from "./memory";
import { processSyscalls } from "./process";
import { register, type SyscallTable } from "./registry";
import { signalSyscalls } from "./signal";
import { timeSyscalls } from "./time";
import { execSyscalls } from "./exec";
import { futexSyscalls } from "./futex";
import { waitSyscalls } from "./wait";
import { pipeSyscalls } from "./pipe";
import { pollSyscalls } from "./poll";
import { memfdSyscalls } from "./memfd";

/** Builds the table of every system call the Sentry implements; the rest return ENOSYS. */
export function buildSyscallTable(): SyscallTable {
  const table: SyscallTable = new Map();
  for (const group of [fileSyscalls, fsSyscalls, infoSyscalls, memorySyscalls, processSyscalls, signalSyscalls, timeSyscalls, execSyscalls, futexSyscalls, waitSyscalls, pipeSyscalls, pollSyscalls, memfdSyscalls]) {
    register(table, group);
  }
  return table;
}
