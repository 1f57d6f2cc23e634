import { type ChildProcess, spawn } from "node:child_process";
import { closeSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SyscallError } from "@sandbox/abi";
import { seqpacketPair } from "../native/seqpacket.native";
import { GoferConnection } from "./GoferConnection";

/** Options of spawnGofer. */
export interface SpawnGoferOptions {
  /** The host directory that the gofer serves as the mount root. */
  root: string;
  /** Serve the mount read-only. */
  readOnly: boolean;
  /** The gofer program to run with Node; gofer.js beside this package's index.js by default. */
  program?: string;
  /** The Node binary; the one running this process by default. */
  nodePath?: string;
  /** Environment of the gofer; this process's by default. */
  env?: NodeJS.ProcessEnv;
}

/** How a gofer process ended. */
export interface GoferExit {
  /** Exit status, or null if a signal ended it. */
  code: number | null;
  /** The signal that ended it, or null. */
  signal: NodeJS.Signals | null;
}

/** A running gofer process. */
export interface GoferProcess {
  readonly pid: number;
  /** Settles once the process has ended and been reaped. */
  readonly exited: Promise<GoferExit>;
  /** Sends `signal` (SIGKILL by default) unless the process has already ended. */
  kill(signal?: NodeJS.Signals): void;
}

/** A started gofer and the client end of its socket. */
export interface SpawnedGofer {
  process: GoferProcess;
  connection: GoferConnection;
}

/** The gofer program beside the bundle that contains this module (dist/gofer.js). */
export function defaultProgram(): string {
  return join(dirname(fileURLToPath(import.meta.url)), "gofer.js");
}

/**
 * Starts a gofer for `options.root` in a new Node process, connected to
 * this one by a SOCK_SEQPACKET socket pair: the gofer gets its end as
 * descriptor 3, and the returned connection holds the other. Closing the
 * connection, or the end of this process, makes the gofer exit.
 *
 * Call it from the main thread: the gofer also gets SIGKILL when the thread
 * that started it exits. The process is reaped by Node itself, so never wait
 * for it with waitpid(-1).
 */
export function spawnGofer(options: SpawnGoferOptions): SpawnedGofer {
  const pair = seqpacketPair();
  if (typeof pair === "number") {
    throw new SyscallError(-pair, "socketpair for the gofer");
  }
  const [clientEnd, goferEnd] = pair;

  const args = [options.program ?? defaultProgram(), `--root=${options.root}`, "--socket-fd=3"];
  if (options.readOnly) {
    args.push("--read-only");
  }
  let child: ChildProcess;
  try {
    child = spawn(options.nodePath ?? process.execPath, args, {
      stdio: ["ignore", "ignore", "inherit", goferEnd],
      // A session of its own: a Ctrl-C on the terminal must not reach the gofer, only the sandbox.
      detached: true,
      env: options.env ?? process.env,
    });
  } catch (error) {
    closeSync(clientEnd);
    throw error;
  } finally {
    closeSync(goferEnd);
  }

  const exited = new Promise<GoferExit>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
    // A failed spawn emits "error" and no "exit".
    child.once("error", () => resolve({ code: null, signal: null }));
  });
  const pid = child.pid;
  if (pid === undefined) {
    closeSync(clientEnd);
    throw new Error(`cannot start the gofer: ${options.nodePath ?? process.execPath} did not start`);
  }

  const goferProcess: GoferProcess = {
    pid,
    exited,
    kill(signal: NodeJS.Signals = "SIGKILL") {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
      }
    },
  };
  return { process: goferProcess, connection: new GoferConnection(clientEnd) };
}
