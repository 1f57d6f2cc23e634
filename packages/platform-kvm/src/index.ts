export { KvmPlatform, type KvmPlatformOptions } from "./kvm-platform";
export { TRAMPOLINE_VA } from "./trampoline";
