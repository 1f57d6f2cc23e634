import { S_IFCHR } from "../constants";
import { TmpFileSystem } from "../tmpfs/TmpFileSystem";
import { DeviceRegistry } from "./DeviceRegistry";
import { MemoryDevice, registerMemoryDevices } from "./memoryDevices";

/** The symbolic links of /dev into the process's descriptors. */
const FD_LINKS = [
  ["fd", "/proc/self/fd"],
  ["stdin", "/proc/self/fd/0"],
  ["stdout", "/proc/self/fd/1"],
  ["stderr", "/proc/self/fd/2"],
] as const;

/**
 * Creates a /dev for a sandbox: a tmpfs (mode 0755) whose nodes null, zero,
 * full, random and urandom (mode 0666, owned by root) open the memory
 * devices of `devices`, which gets them registered if it lacks them. As in
 * a container that runc or Docker starts, fd, stdin, stdout and stderr are
 * symbolic links into /proc/self/fd.
 */
export function newDevFileSystem(dev: number, devices: DeviceRegistry = new DeviceRegistry()): TmpFileSystem {
  registerMemoryDevices(devices);

  const fs = new TmpFileSystem({ dev, mode: 0o755, devices });
  const root = fs.root();
  const owner = { uid: 0, gid: 0 };
  for (const name of Object.keys(MemoryDevice) as (keyof typeof MemoryDevice)[]) {
    root.mknod(name, S_IFCHR | 0o666, MemoryDevice[name], owner);
  }
  for (const [name, target] of FD_LINKS) root.symlink(name, target, owner);
  return fs;
}
