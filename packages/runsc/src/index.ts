export { Sandbox, type RunSpec, type SandboxOptions } from "./sandbox";
export { main } from "./cli";
export { choosePlatform, AUTO_ORDER, type PlatformChoice } from "./platforms";
export { parseVolume, SandboxFileSystem, type Volume } from "./filesystem";
