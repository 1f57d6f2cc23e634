export * from "./registers";
export * from "./errno";
export * from "./signals";
export * from "./flags";
export * from "./syscalls";
export * from "./structs";
