// @sandbox/gofer: the gofer, a separate host process that is the only opener
// of host files for a sandbox, and the client side that the Sentry uses.
// spawnGofer starts a gofer over a host directory, and GoferFileSystem
// serves that directory to the VFS through it. README.md describes the protocol.

export { spawnGofer, type GoferExit, type GoferProcess, type SpawnedGofer, type SpawnGoferOptions } from "./client/spawnGofer";
export { GoferConnection } from "./client/GoferConnection";
export { GoferFileSystem, type GoferFileSystemOptions } from "./client/GoferFileSystem";
export { GoferInode } from "./client/GoferInode";
export type { Statfs } from "./protocol/wireStatfs";
export { discardPrestartedGofers, prestartGofer, takePrestartedGofer, type TakeGoferOptions } from "./prestart";
export { expectHandedOffGofer } from "./handoff";
