export { SystrapPlatform, DEFAULT_SLEEP_MS, DEFAULT_SPIN_MS, DEFAULT_STUB_PAUSE, DEFAULT_STUB_SPIN, type SystrapOptions } from "./SystrapPlatform";
export { probeSystrap } from "./probe";
export type { SystrapAddressSpace } from "./SystrapAddressSpace";
export type { SystrapContext } from "./SystrapContext";
