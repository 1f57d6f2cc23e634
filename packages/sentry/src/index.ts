export { Kernel, type InitProcessSpec, type KernelOptions, WorkingDirectoryError } from "./kernel/kernel";
export { Logger, LogLevel, type LogSink } from "./kernel/log";
export type { Credentials, Task } from "./kernel/task";
export type { ExitStatus, Rlimit } from "./kernel/thread-group";
export { waitStatusWord } from "./kernel/thread-group";
export { formatSyscall, type StraceMemory } from "./strace";
export { ProcFileSystem } from "./fs/proc";
