export { PtracePlatform } from "./ptrace-platform";
export { STUB_BASE, TASK_SIZE } from "./stub";
