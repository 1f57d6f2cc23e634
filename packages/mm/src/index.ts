export * from "./flags";
export { type Range, isPageAligned, pageAlignDown, pageAlignUp } from "./address";
export { MemoryFile, MemoryFileError } from "./memory-file";
export { PageAllocator, type PageAllocatorOptions } from "./page-allocator";
export type { Mappable, MemfdRange } from "./mappable";
export { SharedAnonymousMemory } from "./shared-anonymous-memory";
export type { VmaInfo } from "./vma";
export { STACK_GUARD_GAP } from "./vma-set";
export {
  MemoryManager,
  type FaultResult,
  type MemoryManagerOptions,
  type MmapRequest,
} from "./memory-manager";
