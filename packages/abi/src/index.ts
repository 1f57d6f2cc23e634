export * from "./registers";
