import { S_IFCHR } from "../constants";
import { TmpFileSystem } from "../tmpfs/TmpFileSystem";
import { DeviceRegistry } from "./DeviceRegistry";
import { MemoryDevice, registerMemoryDevices } from "./memoryDevices";

/**
 * Creates a /dev for a sandbox: a tmpfs (mode 0755) whose nodes null, zero,
 * full, random and urandom (mode 0666, owned by root) open the memory
 * devices of `devices`, which gets them registered if it lacks them.
 */
export function newDevFileSystem(dev: number, devices: DeviceRegistry = new DeviceRegistry()): TmpFileSystem {
  registerMemoryDevices(devices);

  const fs = new TmpFileSystem({ dev, mode: 0o755, devices });
  const root = fs.root();
  const owner = { uid: 0, gid: 0 };
  for (const name of Object.keys(MemoryDevice) as (keyof typeof MemoryDevice)[]) {
    root.mknod(name, S_IFCHR | 0o666, MemoryDevice[name], owner);
  }
  return fs;
}
