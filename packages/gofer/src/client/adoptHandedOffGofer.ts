import { closeSync, readFileSync, realpathSync } from "node:fs";
import { Errno, errnoMessage } from "@sandbox/abi";
import { connectAbstract, peerPid } from "../native/abstractSocket.native";
import { handoffAddress } from "../protocol/handoff";
import { GoferConnection } from "./GoferConnection";
import { HandedOffGoferProcess } from "./HandedOffGoferProcess";
import type { SpawnedGofer } from "./spawnGofer";

/**
 * Maximum wait for a handed-off gofer to listen, in milliseconds. Its Node
 * starts at the same time as runsc's and usually listens before runsc
 * connects. The limit is for a gofer that hangs or a machine under heavy load.
 */
const CONNECT_TIMEOUT_MS = 5_000;

/** Pause between two connection attempts while the gofer starts, in milliseconds. */
const CONNECT_RETRY_MS = 0.2;

const pause = new Int32Array(new SharedArrayBuffer(4));

/** The gofer that a handed-off process must be. */
export interface HandoffExpectation {
  readonly root: string;
  readonly readOnly: boolean;
  /** The gofer program (gofer.js) that this client would spawn itself. */
  readonly program: string;
}

/** Returns the parent pid of process `pid` from /proc, or undefined when it is gone. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

/** Returns the real path of `path`, or undefined when it cannot be resolved. */
function realPath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Checks that the process at the other end of `fd`, a connection to the
 * handoff address, is the gofer `pid` with the expected program and
 * arguments. Returns what is wrong, or undefined.
 */
function checkPeer(fd: number, pid: number, expected: HandoffExpectation): string | undefined {
  const peer = peerPid(fd);
  if (peer !== pid) {
    return peer < 0 ? `SO_PEERCRED failed: ${errnoMessage(-peer)}` : `process ${peer} listens on the handoff address`;
  }
  let argv: string[];
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, -1);
  } catch (error) {
    return `cannot read its command line: ${(error as Error).message}`;
  }
  // A launcher of another installation may have found another gofer.js.
  const program = realPath(expected.program);
  if (argv.length < 2 || !argv[1].startsWith("/") || program === undefined || realPath(argv[1]) !== program) {
    return `it runs ${JSON.stringify(argv.slice(0, 2).join(" "))}, not the gofer program ${expected.program}`;
  }
  const options = argv.slice(2).sort();
  const expectedOptions = [`--handoff=${process.pid}`, `--root=${expected.root}`, ...(expected.readOnly ? ["--read-only"] : [])].sort();
  if (options.join("\0") !== expectedOptions.join("\0")) {
    return `its options ${options.join(" ")} are not ${expectedOptions.join(" ")}`;
  }
  return undefined;
}

/**
 * Connects to the gofer's handoff address, retrying while the gofer starts.
 * Returns the connected descriptor, or what went wrong.
 */
function connect(gofer: HandedOffGoferProcess, expected: HandoffExpectation): number | string {
  const address = handoffAddress(process.pid);
  const deadline = performance.now() + CONNECT_TIMEOUT_MS;
  for (;;) {
    const fd = connectAbstract(address);
    if (fd >= 0) {
      const problem = checkPeer(fd, gofer.pid, expected);
      if (problem === undefined) return fd;
      closeSync(fd);
      return problem;
    }
    // Nothing listens yet (ECONNREFUSED), or others filled the backlog (EAGAIN).
    if (fd !== -Errno.ECONNREFUSED && fd !== -Errno.EAGAIN) return `connect failed: ${errnoMessage(-fd)}`;
    if (gofer.reap()) return "it exited before it listened";
    if (performance.now() >= deadline) return `it did not listen within ${CONNECT_TIMEOUT_MS} ms`;
    Atomics.wait(pause, 0, 0, CONNECT_RETRY_MS);
  }
}

/**
 * Connects to the gofer `pid` that a launcher started as a child of this
 * process with `--handoff=<this pid>` (see ../protocol/handoff.ts), and
 * returns it once the other end of the connection proves to be that process,
 * running `expected.program` for `expected.root`. Otherwise it kills `pid`
 * if it is a child of this process, leaves any other process alone, and
 * returns undefined. `log` hears what happened, for a debug log.
 *
 * It blocks the calling thread while the gofer starts.
 */
export function adoptHandedOffGofer(pid: number, expected: HandoffExpectation, log: (message: string) => void): SpawnedGofer | undefined {
  if (parentOf(pid) !== process.pid) {
    log(`not adopting process ${pid} as a gofer: it is not a child of this process`);
    return undefined;
  }
  const gofer = new HandedOffGoferProcess(pid);
  const fd = connect(gofer, expected);
  if (typeof fd === "string") {
    gofer.kill();
    log(`not adopting process ${pid} as a gofer: ${fd}`);
    return undefined;
  }
  log(`adopted the gofer ${pid} that the launcher started`);
  return { process: gofer, connection: new GoferConnection(fd) };
}

/** Kills the handed-off gofer `pid` that nothing adopted, if it is a child of this process. */
export function discardHandedOffGofer(pid: number): void {
  if (parentOf(pid) === process.pid) process.kill(pid, "SIGKILL");
}
