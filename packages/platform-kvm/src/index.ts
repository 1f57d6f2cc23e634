export { KvmPlatform } from "./kvm-platform";
export { TRAMPOLINE_VA } from "./trampoline";
