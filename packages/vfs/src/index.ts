// @sandbox/vfs: the virtual file system of the sandbox. The Sentry's file
// system calls resolve paths, open files and change names through
// VirtualFileSystem, keep open files in an FdTable, and read and write
// through FileDescription.

export * from "./constants";
export { Credentials } from "./Credentials";
export { checkAccess, checkExecute, checkSticky, mayAccess, type Permissions } from "./permission";
export type { Owner, SetAttr, Stat, Timespec } from "./Stat";
export { timespecNow } from "./Stat";
export type { DirentEmitter, FileDescriptionImpl, FileSystem, Inode, MagicLinkTarget } from "./FileSystem";
export type { Dentry, VirtualDentry } from "./Dentry";
export type { Mount } from "./Mount";
export { VirtualFileSystem, type MountOptions } from "./VirtualFileSystem";
export type { FsContext } from "./operations/context";
export { FileDescription } from "./FileDescription";
export { DEFAULT_NOFILE_LIMIT, FdTable, NR_OPEN } from "./FdTable";
export { TmpFileSystem, type TmpFileSystemOptions } from "./tmpfs/TmpFileSystem";
export type { SharedPages, SharedRange } from "./tmpfs/FileData";
export { F_SEAL_EXEC, F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE, TmpRegularFile } from "./tmpfs/TmpRegularFile";
export { HostFileSystem, type HostFileSystemOptions } from "./host/HostFileSystem";
export { HostFdFile, type HostFdFileOptions } from "./host/HostFdFile";
export { HostPoller } from "./host/HostPoller";
export { DeviceRegistry, type DeviceOpener } from "./devices/DeviceRegistry";
export { MemoryDevice, registerMemoryDevices } from "./devices/memoryDevices";
export { newDevFileSystem } from "./devices/devfs";
export { ALWAYS_POLLED, DEFAULT_READINESS, WaiterQueue } from "./WaiterQueue";
export { DEFAULT_PIPE_SIZE, MAX_PIPE_SIZE, PIPE_BUF, Pipe } from "./pipe/Pipe";
export { PipeFile, type PipeFileOptions, pipeOf } from "./pipe/PipeFile";
export { PipeFileSystem, type PipeFileSystemOptions } from "./pipe/PipeFileSystem";
export { openFifo } from "./pipe/fifo";
export { OverlayFileSystem, type OverlayFileSystemOptions, UPPER_INO_BASE } from "./overlay/OverlayFileSystem";
export { OverlayInode } from "./overlay/OverlayInode";
