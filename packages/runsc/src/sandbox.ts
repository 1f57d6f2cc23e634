import { randomBytes } from "node:crypto";
import { isatty } from "node:tty";
import { RlimitResource } from "@sandbox/abi";
import { MemoryFile, PageAllocator } from "@sandbox/mm";
import type { Platform } from "@sandbox/platform";
import { type ExitStatus, Kernel, Logger, LogLevel, type LogSink, ProcFileSystem, type Rlimit, type Task } from "@sandbox/sentry";
import { FileDescription, HostFdFile } from "@sandbox/vfs";
import { forbidHostFileOpens } from "./confine.native";
import { SandboxFileSystem, type Volume } from "./filesystem";
import { hostCpuCount, hostHardwareCapabilities, hostRlimits } from "./host-info";
import { choosePlatform } from "./platforms";
import { startThreadPool } from "./thread-pool";

const O_RDONLY = 0;
const O_WRONLY = 1;
const O_RDWR = 2;

/** Options of a sandbox. Every field has a default that follows `runsc do`. */
export interface SandboxOptions {
  /** "auto" (default), "ptrace", "systrap" or "kvm". */
  readonly platform?: string;
  /** Host name the sandbox reports; default "sandbox". */
  readonly hostname?: string;
  /** Receives log lines; default stderr. */
  readonly logSink?: LogSink;
  /** Lowest level that is logged; default Warning. */
  readonly logLevel?: LogLevel;
  /** Receives one strace-formatted line per system call. */
  readonly strace?: (line: string) => void;
  /**
   * After start-up, make this whole Node process fail every open(2),
   * openat(2), openat2(2) and creat(2) with EPERM (seccomp), which proves
   * that the Sentry reads host files only through the gofers. Irreversible
   * for the process; meant for a process that only runs sandboxes.
   */
  readonly forbidHostFileOpens?: boolean;
  /** Host directories bind-mounted into the sandbox. */
  readonly volumes?: readonly Volume[];
  /** Called after every system call of the sandbox. */
  readonly onSyscallExit?: (task: Task, nr: number) => void;
}

/** One program run in a sandbox. */
export interface RunSpec {
  /** Command and arguments; the command is looked up on PATH from `env` when it has no slash. */
  readonly argv: readonly string[];
  /** Environment; default the caller's. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Working directory inside the sandbox; default the caller's. */
  readonly cwd?: string;
  /** Host descriptors given to the program as 0, 1 and 2; default the caller's own. */
  readonly stdio?: readonly [number, number, number];
}

/** Turns a JavaScript string into the byte string (one character per byte) that the Sentry uses. */
function byteString(text: string): string {
  return Buffer.from(text, "utf8").toString("latin1");
}

/**
 * A sandbox: one Sentry kernel with its memory file, platform and file
 * system. `runsc do` uses it, and so can any Node program that embeds the
 * Sentry. In an embedding process nothing confines the Node process itself.
 * The isolation is that of the platform: the program's system calls are
 * served by the Sentry, but the host process running the Sentry is not
 * restricted as a detached runsc sandbox process is.
 */
export class Sandbox {
  readonly id = randomBytes(4).toString("hex");
  readonly memoryFile: MemoryFile;
  readonly platform: Platform;
  /** The reason the platform was chosen, for --debug. */
  readonly platformReason: string;
  readonly logger: Logger;
  /** The mounts of the sandbox and the gofers behind them. */
  readonly fileSystem: SandboxFileSystem;
  private readonly kernel: Kernel;
  /** The caller's resource limits, read once at start-up, before any confinement. */
  private readonly rlimits: Map<number, Rlimit>;
  private closed = false;

  constructor(readonly options: SandboxOptions = {}) {
    this.logger = new Logger(this.id, options.logSink ?? ((line) => process.stderr.write(`${line}\n`)), options.logLevel ?? LogLevel.Warning);
    this.memoryFile = MemoryFile.create(`sandbox-${this.id}`);
    try {
      const choice = choosePlatform(options.platform ?? "auto", this.memoryFile);
      this.platform = choice.platform;
      this.platformReason = choice.reason;
    } catch (error) {
      this.memoryFile.close();
      throw error;
    }
    this.logger.debug(`platform ${this.platform.name}: ${this.platformReason}`);

    const allocator = new PageAllocator(this.memoryFile);
    try {
      this.fileSystem = new SandboxFileSystem(options.volumes ?? [], this.logger, allocator);
    } catch (error) {
      this.platform.close();
      this.memoryFile.close();
      throw error;
    }
    const vfs = this.fileSystem.vfs;

    const { hwcap, hwcap2 } = hostHardwareCapabilities();
    this.rlimits = hostRlimits();
    startThreadPool(this.platform.name, this.rlimits.get(RlimitResource.RLIMIT_NPROC)?.soft ?? Infinity);
    this.kernel = new Kernel({
      platform: this.platform,
      memoryFile: this.memoryFile,
      allocator,
      vfs,
      logger: this.logger,
      hostname: options.hostname ?? "sandbox",
      strace: options.strace,
      onSyscallExit: options.onSyscallExit,
      hwcap,
      hwcap2,
      cpuCount: hostCpuCount(),
    });
    this.fileSystem.mountProc(new ProcFileSystem(this.kernel, vfs.allocateDevice()));
    if (options.forbidHostFileOpens === true) forbidHostFileOpens();
  }

  /**
   * Runs a program to completion and returns how it ended. Throws a
   * SyscallError (ENOENT, EACCES, ENOEXEC, ...) when it cannot be executed.
   */
  async run(spec: RunSpec): Promise<ExitStatus> {
    const env = spec.env ?? process.env;
    const envp = Object.entries(env)
      .filter((entry): entry is [string, string] => entry[1] !== undefined)
      .map(([name, value]) => byteString(`${name}=${value}`));
    const [stdin, stdout, stderr] = spec.stdio ?? [0, 1, 2];
    const stdio = [
      new FileDescription(new HostFdFile(stdin), isatty(stdin) ? O_RDWR : O_RDONLY),
      new FileDescription(new HostFdFile(stdout), isatty(stdout) ? O_RDWR : O_WRONLY),
      new FileDescription(new HostFdFile(stderr), isatty(stderr) ? O_RDWR : O_WRONLY),
    ];
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    const groups = (process.getgroups?.() ?? []).filter((group) => group !== gid);
    try {
      return await this.kernel.run({
        argv: spec.argv.map(byteString),
        envp,
        cwd: byteString(spec.cwd ?? process.cwd()),
        credentials: { uid, euid: uid, suid: uid, gid, egid: gid, sgid: gid, groups },
        rlimits: this.rlimits,
        stdio,
        searchPath: byteString(env.PATH ?? "/usr/local/bin:/usr/bin:/bin"),
        stdinIsTerminal: isatty(stdin),
      });
    } finally {
      for (const file of stdio) file.decRef();
    }
  }

  /**
   * Sends signal `signo` into the sandbox, as a terminal or process manager
   * would: to the foreground process group of its terminal, or to its first
   * process when it has no terminal.
   */
  signal(signo: number): void {
    this.kernel.signalFromHost(signo);
  }

  /** Ends every process of the sandbox and frees its host resources. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.kernel.shutdown();
    this.platform.close();
    this.fileSystem.close();
    this.memoryFile.close();
  }
}
