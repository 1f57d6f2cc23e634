export type { StraceMemory } from "./memory";
export { formatSyscall } from "./formatSyscall";
