// procfs: the Sentry's /proc, built from its own processes, never the host's.
import type { Inode, MagicLinkTarget, Mount } from "@sandbox/vfs";
import type { Kernel } from "../kernel/kernel";
import type { Task } from "../kernel/task";
import type { ThreadGroup } from "../kernel/thread-group";
import { SANDBOX_KERNEL_RELEASE } from "../syscalls/info";
import { SyntheticDirectory, SyntheticFile, SyntheticFileSystem, SyntheticSymlink } from "./synthetic";

type Entries = Map<string, () => Inode>;

function hex(value: number, width: number): string {
  return value.toString(16).padStart(width, "0");
}

/**
 * The /proc of one sandbox. Paths under /proc/self resolve against the task
 * that is making the current system call (Kernel.currentTask).
 */
export class ProcFileSystem extends SyntheticFileSystem {
  readonly type = "proc";
  private readonly rootInode: SyntheticDirectory;

  constructor(
    private readonly kernel: Kernel,
    dev: number,
  ) {
    super(dev);
    this.rootInode = new SyntheticDirectory(this, "/", () => this.rootEntries());
  }

  root(): Inode {
    return this.rootInode;
  }

  private currentPid(): number {
    return this.kernel.currentTask?.threadGroup.pid ?? 1;
  }

  private rootEntries(): Entries {
    const entries: Entries = new Map();
    entries.set("self", () => new SyntheticSymlink(this, "/self", () => String(this.currentPid())));
    entries.set("thread-self", () => new SyntheticSymlink(this, "/thread-self", () => `${this.currentPid()}/task/${this.kernel.currentTask?.tid ?? 1}`));
    for (const group of this.kernel.threadGroups.values()) {
      if (group.zombie && group.tasks.size === 0 && group.exitStatus === undefined) continue;
      entries.set(String(group.pid), () => this.processDirectory(group, `/${group.pid}`));
    }
    entries.set("meminfo", () => new SyntheticFile(this, "/meminfo", () => this.meminfo()));
    entries.set("cpuinfo", () => new SyntheticFile(this, "/cpuinfo", () => this.cpuinfo()));
    entries.set("uptime", () => new SyntheticFile(this, "/uptime", () => this.uptime()));
    entries.set("loadavg", () => new SyntheticFile(this, "/loadavg", () => `0.00 0.00 0.00 1/${this.kernel.tasks.size} ${this.kernel.lastPid}\n`));
    entries.set("version", () => new SyntheticFile(this, "/version", () => `Linux version ${SANDBOX_KERNEL_RELEASE} (sandbox) #1 SMP PREEMPT_DYNAMIC sandbox\n`));
    entries.set("filesystems", () => new SyntheticFile(this, "/filesystems", () => "nodev\tproc\nnodev\ttmpfs\nnodev\tdevtmpfs\nnodev\tpipefs\nnodev\toverlay\n"));
    entries.set("mounts", () => new SyntheticSymlink(this, "/mounts", () => "self/mounts"));
    entries.set("sys", () => this.sysDirectory());
    entries.set("stat", () => new SyntheticFile(this, "/stat", () => this.systemStat()));
    return entries;
  }

  private processDirectory(group: ThreadGroup, path: string): Inode {
    const owner = { uid: group.credentials.uid, gid: group.credentials.gid };
    const leader = () => this.kernel.tasks.get(group.pid) ?? [...group.tasks][0];
    const entries = (): Entries => {
      const map: Entries = new Map();
      map.set("exe", () => new SyntheticSymlink(this, `${path}/exe`, () => group.executablePath, owner));
      // Like Linux's, these are magic links: they lead to the directory itself.
      map.set("cwd", () => new SyntheticSymlink(this, `${path}/cwd`, () => this.kernel.options.vfs.getcwd(group.fs), owner, () => ({ vd: group.fs.cwd })));
      map.set("root", () => new SyntheticSymlink(this, `${path}/root`, () => "/", owner, () => ({ vd: group.fs.root })));
      map.set("cmdline", () => new SyntheticFile(this, `${path}/cmdline`, () => group.argv.map((arg) => `${arg}\0`).join(""), 0o444, owner));
      map.set("comm", () => new SyntheticFile(this, `${path}/comm`, () => `${leader()?.name ?? ""}\n`, 0o644, owner));
      map.set("maps", () => new SyntheticFile(this, `${path}/maps`, () => this.maps(group), 0o444, owner));
      map.set("status", () => new SyntheticFile(this, `${path}/status`, () => this.status(group, leader()), 0o444, owner));
      map.set("stat", () => new SyntheticFile(this, `${path}/stat`, () => this.stat(group, leader()), 0o444, owner));
      map.set("statm", () => new SyntheticFile(this, `${path}/statm`, () => this.statm(group), 0o444, owner));
      map.set("mounts", () => new SyntheticFile(this, `${path}/mounts`, () => this.mounts(), 0o444, owner));
      map.set("environ", () => new SyntheticFile(this, `${path}/environ`, () => group.envp.map((entry) => `${entry}\0`).join(""), 0o400, owner));
      map.set("fd", () => new SyntheticDirectory(this, `${path}/fd`, () => this.fdEntries(group, `${path}/fd`), 0o500, owner));
      map.set("task", () => new SyntheticDirectory(this, `${path}/task`, () => this.taskEntries(group, `${path}/task`), 0o555, owner));
      return map;
    };
    return new SyntheticDirectory(this, path, entries, 0o555, owner);
  }

  private taskEntries(group: ThreadGroup, path: string): Entries {
    const map: Entries = new Map();
    for (const task of group.tasks) {
      map.set(String(task.tid), () =>
        new SyntheticDirectory(this, `${path}/${task.tid}`, () => {
          const inner: Entries = new Map();
          inner.set("comm", () => new SyntheticFile(this, `${path}/${task.tid}/comm`, () => `${task.name}\n`));
          inner.set("stat", () => new SyntheticFile(this, `${path}/${task.tid}/stat`, () => this.stat(group, task)));
          inner.set("status", () => new SyntheticFile(this, `${path}/${task.tid}/status`, () => this.status(group, task)));
          return inner;
        }),
      );
    }
    return map;
  }

  private fdEntries(group: ThreadGroup, path: string): Entries {
    const map: Entries = new Map();
    const vfs = this.kernel.options.vfs;
    for (const fd of group.fdTable.fds()) {
      const target = () => {
        const file = group.fdTable.lookup(fd);
        if (file === undefined) return "";
        if (file.vd !== undefined) return vfs.pathOf(group.fs.root, file.vd);
        if (file.impl.linkName !== undefined) return file.impl.linkName;
        const stat = file.stat();
        const type = stat.mode & 0o170000;
        // A file without a path links to a "type:[inode]" name, as Linux shows pipes.
        return type === 0o010000 ? `pipe:[${stat.ino}]` : `anon_inode:[${stat.ino}]`;
      };
      // As on Linux, following the link leads to the open file itself, so
      // that a pipe, a deleted file or the sandbox's stdio can be opened.
      const magic = (): MagicLinkTarget | undefined => {
        const file = group.fdTable.lookup(fd);
        if (file === undefined) return undefined;
        return file.vd !== undefined ? { vd: file.vd } : { file };
      };
      map.set(String(fd), () => new SyntheticSymlink(this, `${path}/${fd}`, target, undefined, magic));
    }
    return map;
  }

  private maps(group: ThreadGroup): string {
    const lines: string[] = [];
    for (const vma of group.mm.vmas()) {
      const perms = `${vma.prot & 1 ? "r" : "-"}${vma.prot & 2 ? "w" : "-"}${vma.prot & 4 ? "x" : "-"}${vma.shared ? "s" : "p"}`;
      const prefix = `${hex(vma.start, 8)}-${hex(vma.end, 8)} ${perms} ${hex(vma.offset, 8)} 00:00 0`;
      lines.push(vma.name === "" ? `${prefix}\n` : `${prefix.padEnd(73)}${vma.name}\n`);
    }
    return lines.join("");
  }

  private status(group: ThreadGroup, task: Task | undefined): string {
    const creds = group.credentials;
    const vmRss = Math.floor(group.mmOrUndefined?.residentBytes() ?? 0) / 1024;
    const state = group.zombie ? "Z (zombie)" : "S (sleeping)";
    const mask = (value: bigint) => value.toString(16).padStart(16, "0");
    return [
      `Name:\t${task?.name ?? ""}`,
      "Umask:\t" + group.fs.umask.toString(8).padStart(4, "0"),
      `State:\t${state}`,
      `Tgid:\t${group.pid}`,
      `Ngid:\t0`,
      `Pid:\t${task?.tid ?? group.pid}`,
      `PPid:\t${group.parent?.pid ?? 0}`,
      `TracerPid:\t0`,
      `Uid:\t${creds.uid}\t${creds.euid}\t${creds.suid}\t${creds.euid}`,
      `Gid:\t${creds.gid}\t${creds.egid}\t${creds.sgid}\t${creds.egid}`,
      `FDSize:\t${Math.max(64, group.fdTable.fds().length)}`,
      `Groups:\t${creds.groups.join(" ")}`,
      `VmRSS:\t${String(vmRss).padStart(8)} kB`,
      `Threads:\t${group.tasks.size}`,
      `SigPnd:\t${mask(task?.pending ?? 0n)}`,
      `ShdPnd:\t${mask(group.sharedPending)}`,
      `SigBlk:\t${mask(task?.signalMask ?? 0n)}`,
      `SigIgn:\t${mask(group.signalActions.reduce((bits, action, signo) => (signo > 0 && action.handler === 1n ? bits | (1n << BigInt(signo - 1)) : bits), 0n))}`,
      `SigCgt:\t${mask(group.signalActions.reduce((bits, action, signo) => (signo > 0 && action.handler > 1n ? bits | (1n << BigInt(signo - 1)) : bits), 0n))}`,
      `Cpus_allowed_list:\t0-${this.kernel.cpuCount - 1}`,
      "",
    ].join("\n");
  }

  private stat(group: ThreadGroup, task: Task | undefined): string {
    const state = group.zombie ? "Z" : "S";
    const fields = [
      task?.tid ?? group.pid, `(${task?.name ?? ""})`, state, group.parent?.pid ?? 0, group.pgid, group.sid,
      0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, group.tasks.size, 0, 0, 0, 0,
    ];
    return `${fields.join(" ")}\n`;
  }

  private statm(group: ThreadGroup): string {
    const pages = Math.floor((group.mmOrUndefined?.residentBytes() ?? 0) / 4096);
    return `${pages} ${pages} 0 0 0 0 0\n`;
  }

  /** The mount table in /proc/mounts format, walked from the root mount in mount order. */
  private mounts(): string {
    const vfs = this.kernel.options.vfs;
    const root = vfs.rootDirectory();
    const lines: string[] = [];
    const visit = (mount: Mount, path: string) => {
      const options = mount.readOnly ? "ro" : "rw";
      lines.push(`${mount.fs.type} ${path} ${mount.fs.type} ${options} 0 0\n`);
      const children = [...mount.children.values()].sort((a, b) => a.id - b.id);
      for (const child of children) {
        if (child.mountpoint === null) continue;
        visit(child, vfs.pathOf(root, { mount, dentry: child.mountpoint }));
      }
    };
    visit(vfs.rootMount, "/");
    return lines.join("");
  }

  private meminfo(): string {
    const total = Math.floor(this.kernel.memoryLimit / 1024);
    const used = Math.floor(this.kernel.options.memoryFile.allocatedBytes() / 1024);
    const free = Math.max(0, total - used);
    return `MemTotal:       ${String(total).padStart(8)} kB\nMemFree:        ${String(free).padStart(8)} kB\nMemAvailable:   ${String(free).padStart(8)} kB\nBuffers:               0 kB\nCached:                0 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\n`;
  }

  private cpuinfo(): string {
    const blocks: string[] = [];
    for (let cpu = 0; cpu < this.kernel.cpuCount; cpu++) {
      blocks.push(`processor\t: ${cpu}\nvendor_id\t: sandbox\nmodel name\t: sandbox virtual CPU\nflags\t\t: fpu sse sse2\n\n`);
    }
    return blocks.join("");
  }

  /** /proc/stat: CPU lines without accounting, the boot time and process counts. */
  private systemStat(): string {
    const bootSeconds = Math.floor((Date.now() - Number(process.hrtime.bigint() - this.kernel.bootTime) / 1e6) / 1000);
    const cpus = Array.from({ length: this.kernel.cpuCount }, (_, cpu) => `cpu${cpu} 0 0 0 0 0 0 0 0 0 0\n`).join("");
    return `cpu  0 0 0 0 0 0 0 0 0 0\n${cpus}intr 0\nctxt 0\nbtime ${bootSeconds}\nprocesses ${this.kernel.lastPid}\nprocs_running 1\nprocs_blocked 0\n`;
  }

  private uptime(): string {
    const seconds = Number(process.hrtime.bigint() - this.kernel.bootTime) / 1e9;
    return `${seconds.toFixed(2)} ${(seconds * this.kernel.cpuCount).toFixed(2)}\n`;
  }

  private sysDirectory(): Inode {
    const file = (path: string, value: () => string) => () => new SyntheticFile(this, path, () => `${value()}\n`);
    const directory = (path: string, children: Record<string, () => Inode>) => () =>
      new SyntheticDirectory(this, path, () => new Map(Object.entries(children)));
    return directory("/sys", {
      kernel: directory("/sys/kernel", {
        hostname: file("/sys/kernel/hostname", () => this.kernel.options.hostname),
        ostype: file("/sys/kernel/ostype", () => "Linux"),
        osrelease: file("/sys/kernel/osrelease", () => SANDBOX_KERNEL_RELEASE),
        pid_max: file("/sys/kernel/pid_max", () => "4194304"),
        ngroups_max: file("/sys/kernel/ngroups_max", () => "65536"),
        cap_last_cap: file("/sys/kernel/cap_last_cap", () => "40"),
      }),
      vm: directory("/sys/vm", {
        overcommit_memory: file("/sys/vm/overcommit_memory", () => "0"),
        max_map_count: file("/sys/vm/max_map_count", () => "65530"),
        mmap_min_addr: file("/sys/vm/mmap_min_addr", () => "65536"),
      }),
      fs: directory("/sys/fs", {
        "pipe-max-size": file("/sys/fs/pipe-max-size", () => "1048576"),
        nr_open: file("/sys/fs/nr_open", () => "1048576"),
        "file-max": file("/sys/fs/file-max", () => "9223372036854775807"),
      }),
    })();
  }
}
