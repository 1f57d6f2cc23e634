export { SystrapPlatform, DEFAULT_SPIN_MS, type SystrapOptions } from "./SystrapPlatform";
export { probeSystrap } from "./probe";
export type { SystrapAddressSpace } from "./SystrapAddressSpace";
export type { SystrapContext } from "./SystrapContext";
