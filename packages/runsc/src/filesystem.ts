import { statSync } from "node:fs";
import { createRequire } from "node:module";
import { type GoferProcess, GoferFileSystem, spawnGofer, takePrestartedGofer } from "@sandbox/gofer";
import type { Logger, ProcFileSystem } from "@sandbox/sentry";
import { isatty } from "node:tty";
import { Errno, SyscallError } from "@sandbox/abi";
import {
  DeviceRegistry,
  HostFdFile,
  makeDev,
  S_IFCHR,
  type FileSystem,
  type FsContext,
  newDevFileSystem,
  OverlayFileSystem,
  type SharedPages,
  TmpFileSystem,
  VirtualFileSystem,
} from "@sandbox/vfs";

/**
 * Returns the path of the gofer program of the installed @sandbox/gofer,
 * which also works when this module runs from its TypeScript sources.
 */
function goferProgram(): string | undefined {
  try {
    const resolver = typeof require === "function" ? require : createRequire(import.meta.url);
    return resolver.resolve("@sandbox/gofer/gofer");
  } catch {
    return undefined;
  }
}

/** A host directory bind-mounted into the sandbox (`--volume HOST:SANDBOX[:ro]`). */
export interface Volume {
  readonly hostPath: string;
  readonly sandboxPath: string;
  readonly readOnly: boolean;
}

/** Parses `HOST:SANDBOX[:ro|:rw]`; throws an Error with the reason when it is invalid. */
export function parseVolume(text: string): Volume {
  const parts = text.split(":");
  if (parts.length < 2 || parts.length > 3 || parts[0] === "" || parts[1] === "") {
    throw new Error(`invalid volume "${text}": expected HOST:SANDBOX or HOST:SANDBOX:ro`);
  }
  const mode = parts[2] ?? "rw";
  if (mode !== "ro" && mode !== "rw") throw new Error(`invalid volume mode "${mode}" in "${text}": use ro or rw`);
  if (!parts[0].startsWith("/") || !parts[1].startsWith("/")) throw new Error(`invalid volume "${text}": both paths must be absolute`);
  return { hostPath: parts[0], sandboxPath: parts[1], readOnly: mode === "ro" };
}

/** Sandbox paths a volume may not cover, because the Sentry's own file systems live there. */
const RESERVED_MOUNT_POINTS = ["/", "/proc", "/dev"];

/**
 * Checks, before any gofer starts, that a volume's host path is an existing
 * directory and that its sandbox path is not reserved. Throws an Error that
 * names the volume otherwise.
 */
export function checkVolumeSource(volume: Volume): void {
  const sandboxPath = volume.sandboxPath.replace(/\/+$/, "") || "/";
  if (RESERVED_MOUNT_POINTS.includes(sandboxPath)) {
    throw new Error(`invalid volume target ${volume.sandboxPath}: ${RESERVED_MOUNT_POINTS.join(", ")} cannot be replaced`);
  }
  let isDirectory: boolean;
  try {
    isDirectory = statSync(volume.hostPath).isDirectory();
  } catch (error) {
    throw new Error(`invalid volume source ${volume.hostPath}: ${(error as Error).message}`);
  }
  if (!isDirectory) throw new Error(`invalid volume source ${volume.hostPath}: not a directory`);
}

/** Makes every missing directory of `path`, as mkdir -p does. */
function makeDirectories(vfs: VirtualFileSystem, ctx: FsContext, path: string): void {
  let prefix = "";
  for (const name of path.split("/").filter((part) => part.length > 0)) {
    prefix += `/${name}`;
    try {
      vfs.mkdirAt(ctx, undefined, prefix, 0o755);
    } catch (error) {
      if ((error as { errno?: number }).errno !== 17 /* EEXIST */) throw error;
    }
  }
}

/**
 * The sandbox's file system. The host root is served read-only by a gofer,
 * under a tmpfs overlay that takes every write. /dev, /dev/shm, /proc and
 * /tmp are the Sentry's own, and each volume is served by a gofer of its own,
 * so the Sentry opens no host file for any of it.
 */
export class SandboxFileSystem {
  readonly vfs = new VirtualFileSystem();
  private readonly gofers: Array<{ process: GoferProcess; fs: GoferFileSystem }> = [];
  private readonly devices = new DeviceRegistry();

  /**
   * `logger`, if given, hears at debug level which gofers were adopted.
   * `sharedPages` is where tmpfs files move when they are mapped, so that
   * MAP_SHARED works on them: the page allocator of the sandbox's memory.
   */
  constructor(
    volumes: readonly Volume[],
    private readonly logger?: Logger,
    private readonly sharedPages?: SharedPages,
  ) {
    try {
      const vfs = this.vfs;
      // The host root is read-only to the sandbox and, as under gVisor's
      // default exclusive file access, assumed not to change meanwhile.
      const lower = this.startGofer("/", true, true);
      const upper = new TmpFileSystem({ dev: vfs.allocateDevice(), devices: this.devices, sharedPages });
      vfs.mountRoot(new OverlayFileSystem(lower, upper, { dev: vfs.allocateDevice() }));
      const ctx = vfs.newContext();
      for (const path of ["/dev", "/proc", "/tmp"]) makeDirectories(vfs, ctx, path);
      const dev = newDevFileSystem(vfs.allocateDevice(), this.devices);
      this.addTerminalDevice(dev);
      vfs.mount(ctx, "/dev", dev);
      makeDirectories(vfs, ctx, "/dev/shm");
      vfs.mount(ctx, "/dev/shm", this.tmpfs());
      vfs.mount(ctx, "/tmp", this.tmpfs());
      for (const volume of volumes) {
        makeDirectories(vfs, ctx, volume.sandboxPath);
        vfs.mount(ctx, volume.sandboxPath, this.startGofer(volume.hostPath, volume.readOnly, false), { readOnly: volume.readOnly });
      }
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /**
   * Adds /dev/tty (character device 5,0), which opens the host terminal the
   * sandbox's stdin is connected to, and fails with ENXIO when there is none,
   * as it does for a process without a controlling terminal.
   */
  private addTerminalDevice(dev: TmpFileSystem): void {
    const ttyDevice = makeDev(5, 0);
    this.devices.registerCharacterDevice(ttyDevice, () => {
      if (!isatty(0)) throw new SyscallError(Errno.ENXIO, "no controlling terminal");
      return new HostFdFile(0);
    });
    dev.root().mknod("tty", S_IFCHR | 0o666, ttyDevice, { uid: 0, gid: 0 });
  }

  /** Mounts the Sentry's procfs at /proc; it needs the kernel, which needs this file system first. */
  mountProc(proc: ProcFileSystem): void {
    this.vfs.mount(this.vfs.newContext(), "/proc", proc);
  }

  /** Pids of the gofer processes, for tests and logs. */
  get goferPids(): number[] {
    return this.gofers.map((gofer) => gofer.process.pid);
  }

  private tmpfs(): FileSystem {
    return new TmpFileSystem({ dev: this.vfs.allocateDevice(), mode: 0o1777, devices: this.devices, sharedPages: this.sharedPages });
  }

  private startGofer(root: string, readOnly: boolean, cache: boolean): GoferFileSystem {
    const program = goferProgram();
    const log = (message: string) => this.logger?.debug(message);
    const { process, connection } = takePrestartedGofer(root, readOnly, { program, log }) ?? spawnGofer({ root, readOnly, program });
    const fs = new GoferFileSystem(connection, { dev: this.vfs.allocateDevice(), cache });
    this.gofers.push({ process, fs });
    // A caching mount learns of the gofer's exit here.
    void process.exited.then(() => fs.connection.close());
    return fs;
  }

  /** Disconnects every gofer, which makes it exit. Idempotent. */
  close(): void {
    for (const gofer of this.gofers.splice(0)) {
      try {
        gofer.fs.close();
      } finally {
        gofer.process.kill();
      }
    }
  }
}
