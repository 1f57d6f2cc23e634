export * from "./registers";
export * from "./errno";
