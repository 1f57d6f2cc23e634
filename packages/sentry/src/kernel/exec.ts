import { Errno, SyscallError, UserRegsOffset, USER_CS, USER_DS, USER_EFLAGS } from "@sandbox/abi";
import { MemoryManager } from "@sandbox/mm";
import { type AddressSpace, PlatformError } from "@sandbox/platform";
import type { FileDescription, FsContext } from "@sandbox/vfs";
import { hasElfMagic } from "../loader/elf";
import { type ExecutableFile, loadProgram } from "../loader/load";
import { mappableOfFile } from "../syscalls/mappable";
import type { Kernel } from "./kernel";
import type { Task } from "./task";
import type { ThreadGroup } from "./thread-group";

const O_RDONLY = 0;
const X_OK = 1;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
/** Linux follows at most this many `#!` interpreters (BINPRM_MAX_RECURSION is 4, counting the first file). */
const MAX_INTERPRETER_DEPTH = 4;
/** Bytes of a `#!` line Linux reads (BINPRM_BUF_SIZE). */
const SHEBANG_BYTES = 256;
/** Gap between the stack top and the end of the user range. */
const STACK_TOP_GAP = 0x10_0000;

/** Adapts an open file to what the loader and mm read from it. */
function executableFromDescription(kernel: Kernel, path: string, file: FileDescription): ExecutableFile {
  const mappable = mappableOfFile(file, path, kernel.pageCache);
  return { path, readAt: mappable.readAt, mappable };
}

/**
 * Opens `path` for execution as execve(2) checks it: it must be a regular
 * file with execute permission for the caller (EACCES otherwise, also for
 * directories). The caller owns the returned description.
 */
export function openForExec(kernel: Kernel, ctx: FsContext, path: string): FileDescription {
  const vfs = kernel.options.vfs;
  const stat = vfs.statAt(ctx, undefined, path);
  const type = stat.mode & S_IFMT;
  if (type === S_IFDIR || type !== S_IFREG) throw new SyscallError(Errno.EACCES, `${path} is not a regular file`);
  vfs.accessAt(ctx, undefined, path, X_OK);
  return vfs.openAt(ctx, undefined, path, O_RDONLY);
}

/** A program ready to be loaded: the file, and argv after `#!` processing. */
interface ResolvedProgram {
  readonly file: FileDescription;
  readonly path: string;
  readonly argv: readonly string[];
}

/**
 * Opens `path` and follows `#!` lines as Linux's binfmt_script does: the
 * interpreter, its one optional argument, then the script path replace
 * argv[0].
 */
function resolveProgram(kernel: Kernel, ctx: FsContext, path: string, argv: readonly string[], depth = 0): ResolvedProgram {
  if (depth >= MAX_INTERPRETER_DEPTH) throw new SyscallError(Errno.ELOOP, "too many levels of #! interpreters");
  const file = openForExec(kernel, ctx, path);
  const head = new Uint8Array(SHEBANG_BYTES);
  const length = file.pread(head, 0);
  if (length >= 2 && head[0] === 0x23 && head[1] === 0x21) {
    file.decRef();
    const line = Buffer.from(head.subarray(2, length)).toString("latin1");
    const end = line.indexOf("\n");
    const text = (end < 0 ? line : line.slice(0, end)).replace(/^[ \t]+/, "").replace(/[ \t]+$/, "");
    if (text.length === 0) throw new SyscallError(Errno.ENOEXEC, "empty #! line");
    const split = text.search(/[ \t]/);
    const interpreter = split < 0 ? text : text.slice(0, split);
    const argument = split < 0 ? undefined : text.slice(split).replace(/^[ \t]+/, "");
    const newArgv = [interpreter, ...(argument ? [argument] : []), path, ...argv.slice(1)];
    return resolveProgram(kernel, ctx, interpreter, newArgv, depth + 1);
  }
  if (length < 4 || !hasElfMagic(head)) {
    file.decRef();
    throw new SyscallError(Errno.ENOEXEC, `${path} is neither an ELF file nor a #! script`);
  }
  return { file, path, argv };
}

/** The platform address space that each memory manager drives. */
const addressSpaces = new WeakMap<MemoryManager, AddressSpace>();

/** Returns the platform address space of `mm`. */
export function addressSpaceOf(mm: MemoryManager): AddressSpace {
  const as = addressSpaces.get(mm);
  if (as === undefined) throw new Error("memory manager has no address space");
  return as;
}

/** Returns a new, empty memory manager over a new platform address space. */
export function newMemoryManager(kernel: Kernel): MemoryManager {
  const platform = kernel.platform;
  const addressSpace = platform.newAddressSpace();
  const mm = new MemoryManager({
    memoryFile: kernel.options.memoryFile,
    allocator: kernel.options.allocator,
    addressSpace,
    userRange: platform.userRange,
    reservedRanges: platform.reservedRanges,
  });
  addressSpaces.set(mm, addressSpace);
  return mm;
}

/** Returns a copy-on-write copy of `mm` for a forked child, over a new platform address space. */
export function forkMemoryManager(kernel: Kernel, mm: MemoryManager): MemoryManager {
  const addressSpace = kernel.platform.newAddressSpace();
  const child = mm.fork(addressSpace);
  addressSpaces.set(child, addressSpace);
  return child;
}

/** Frees a memory manager and the platform address space behind it. */
export function releaseMemoryManager(mm: MemoryManager): void {
  const addressSpace = addressSpaces.get(mm);
  try {
    // Releasing the address space below removes its mappings all at once.
    mm.release(addressSpace === undefined);
  } catch (error) {
    // The host side may already be gone (a stub killed from outside); the pages are freed either way.
    if (!(error instanceof PlatformError)) throw error;
  } finally {
    addressSpace?.release();
  }
}

/**
 * Replaces the program of `task`'s process, as execve(2) does once the new
 * image is loaded: a fresh address space, close-on-exec descriptors closed,
 * caught signals reset, and registers set to the new entry point. Errors
 * before the point of no return leave the process unchanged.
 */
export function execve(task: Task, path: string, argv: readonly string[], envp: readonly string[]): void {
  const kernel = task.kernel;
  const group = task.threadGroup;
  const program = resolveProgram(kernel, group.fs, path, argv);
  const mm = newMemoryManager(kernel);
  let entry: { entry: number; sp: number };
  try {
    const file = executableFromDescription(kernel, program.path, program.file);
    const creds = task.credentials;
    entry = loadProgram(mm, {
      file,
      argv: program.argv,
      envp,
      execfn: path,
      uid: creds.uid,
      euid: creds.euid,
      gid: creds.gid,
      egid: creds.egid,
      hwcap: kernel.options.hwcap ?? 0n,
      hwcap2: kernel.options.hwcap2 ?? 0n,
      stackTop: kernel.platform.userRange.end - STACK_TOP_GAP,
      openInterpreter: (interpreterPath) => {
        const interpreter = openForExec(kernel, group.fs, interpreterPath);
        return executableFromDescription(kernel, interpreterPath, interpreter);
      },
    });
  } catch (error) {
    releaseMemoryManager(mm);
    throw error;
  } finally {
    program.file.decRef();
  }

  // The point of no return.
  becomeOnlyThread(task);
  const old = group.mmOrUndefined;
  group.mm = mm;
  if (old !== undefined && !kernel.isShared(old, group, "mm")) releaseMemoryManager(old);
  if (kernel.isShared(group.fdTable, group, "fdTable")) group.fdTable = group.fdTable.fork();
  group.fdTable.closeOnExec();
  group.vforkDone?.();
  group.vforkDone = undefined;
  resetCaughtSignals(group);
  group.executablePath = program.file.vd === undefined ? program.path : kernel.options.vfs.pathOf(group.fs.root, program.file.vd);
  group.argv = program.argv;
  group.envp = envp;
  task.name = baseName(program.path);

  const regs = task.regs;
  regs.bytes.fill(0);
  regs.rip = entry.entry;
  regs.rsp = entry.sp;
  regs.setNumber(UserRegsOffset.cs, USER_CS);
  regs.setNumber(UserRegsOffset.ss, USER_DS);
  regs.setNumber(UserRegsOffset.eflags, USER_EFLAGS);
}

/**
 * Ends every other thread of the process, as execve(2) does, and gives the
 * calling thread the process id when it was not the leader.
 */
function becomeOnlyThread(task: Task): void {
  const kernel = task.kernel;
  const group = task.threadGroup;
  for (const other of [...group.tasks]) {
    if (other === task) continue;
    other.exiting = true;
    other.interrupt();
    kernel.retireTask(other);
  }
  if (task.tid !== group.pid) {
    kernel.tasks.delete(task.tid);
    task.tid = group.pid;
    kernel.tasks.set(task.tid, task);
  }
}

/** Signals with a handler go back to SIG_DFL across execve; ignored ones stay ignored. */
function resetCaughtSignals(group: ThreadGroup): void {
  for (const action of group.signalActions) {
    if (action.handler > 1n) {
      action.handler = 0n;
      action.flags = 0n;
      action.mask = 0n;
      action.restorer = 0n;
    }
  }
}

function baseName(path: string): string {
  const slash = path.lastIndexOf("/");
  return (slash < 0 ? path : path.slice(slash + 1)).slice(0, 15);
}

/**
 * Finds `name` on `searchPath` as execvp(3) does: each directory in turn,
 * skipping ENOENT, ENOTDIR and EACCES, and failing with EACCES if any
 * candidate was found but not executable.
 */
export function searchPath(kernel: Kernel, ctx: FsContext, name: string, searchPath: string): string {
  if (name === "") throw new SyscallError(Errno.ENOENT, "empty program name");
  if (name.includes("/")) return name;
  let sawAccessError = false;
  for (const directory of searchPath.split(":")) {
    const candidate = `${directory === "" ? "." : directory}/${name}`;
    try {
      openForExec(kernel, ctx, candidate).decRef();
      return candidate;
    } catch (error) {
      if (!(error instanceof SyscallError)) throw error;
      if (error.errno === Errno.EACCES) sawAccessError = true;
      else if (error.errno !== Errno.ENOENT && error.errno !== Errno.ENOTDIR) throw error;
    }
  }
  throw new SyscallError(sawAccessError ? Errno.EACCES : Errno.ENOENT, `${name} not found on PATH`);
}
