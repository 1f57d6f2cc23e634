import { openSync, writeSync } from "node:fs";
import { errnoMessage, signalName, SyscallError } from "@sandbox/abi";
import { PlatformError, PlatformUnavailableError } from "@sandbox/platform";
import { LogLevel, WorkingDirectoryError } from "@sandbox/sentry";
import type { FlagValues } from "./flags";
import { checkVolumeSource, parseVolume, type Volume } from "./filesystem";
import { Sandbox } from "./sandbox";
import { idleHelperThreads } from "./threads.native";

/** Exit status when the command was found but could not be executed, as env(1) and shells use it. */
const EXIT_CANNOT_EXECUTE = 126;
/** Exit status when the command was not found. */
const EXIT_NOT_FOUND = 127;
const EXIT_RUNSC_FAILURE = 125;
const ENOENT = 2;
const SIGINT = 2;
const SIGPIPE = 13;
/** Host signals that runsc passes into the sandbox, with their numbers. */
const FORWARDED_SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  // A listener also keeps Node from starting its debugger on SIGUSR1.
  SIGUSR1: 10,
  SIGUSR2: 12,
  SIGTERM: 15,
  SIGTSTP: 20,
  SIGWINCH: 28,
};

/** Key of the statistics of bin/compile-cache.js in globalThis. */
const COMPILE_CACHE = Symbol.for("@sandbox/runsc/compile-cache");

/** Implements `runsc do`: runs `commandLine` in a new sandbox and returns the exit status. */
export async function runDo(values: FlagValues, commandLine: readonly string[]): Promise<number> {
  // V8's helper threads must not take the CPU from the Sentry's thread and
  // the stubs (see threads.native.ts). This runs before anything starts
  // libuv's thread pool, whose threads keep their policy.
  const idled = idleHelperThreads();
  const debugLog = values.get("debug-log") as string | undefined;
  let logFd = 2;
  if (debugLog !== undefined) {
    try {
      logFd = openSync(debugLog, "a");
    } catch (error) {
      process.stderr.write(`runsc: cannot open --debug-log file ${debugLog}: ${(error as Error).message}\n`);
      return EXIT_RUNSC_FAILURE;
    }
  }
  const logSink = (line: string) => writeSync(logFd, `${line}\n`);

  let volumes: Volume[];
  try {
    volumes = ((values.get("volume") as string[] | undefined) ?? []).map(parseVolume);
    for (const volume of volumes) checkVolumeSource(volume);
  } catch (error) {
    process.stderr.write(`runsc: ${(error as Error).message}\n`);
    return EXIT_RUNSC_FAILURE;
  }

  let sandbox: Sandbox;
  try {
    sandbox = new Sandbox({
      volumes,
      platform: (values.get("platform") as string | undefined) ?? "auto",
      hostname: (values.get("hostname") as string | undefined) ?? "sandbox",
      logSink,
      logLevel: values.get("debug") === true ? LogLevel.Debug : LogLevel.Warning,
      strace: values.get("strace") === true ? logSink : undefined,
    });
  } catch (error) {
    if (error instanceof PlatformUnavailableError) {
      process.stderr.write(`runsc: ${error.message}\n`);
      return EXIT_RUNSC_FAILURE;
    }
    throw error;
  }

  sandbox.logger.debug(`moved ${idled} helper threads of runsc to SCHED_IDLE`);
  const cache = (globalThis as Record<symbol, { directory: string; fromCache: number; compiled: number } | undefined>)[COMPILE_CACHE];
  if (cache !== undefined) sandbox.logger.debug(`compile cache ${cache.directory}: ${cache.fromCache} modules from the cache, ${cache.compiled} compiled`);

  // Signals for runsc go into the sandbox, as docker forwards them to a
  // container: to the terminal's foreground process group, or to the first
  // process. SIGTSTP from the terminal reaches the sandbox and runsc itself
  // keeps running.
  const forward = (signal: NodeJS.Signals) => {
    sandbox.logger.info(`forwarding ${signal} into the sandbox`);
    sandbox.signal(FORWARDED_SIGNALS[signal]);
  };
  const forwarded = Object.keys(FORWARDED_SIGNALS) as NodeJS.Signals[];
  for (const signal of forwarded) process.on(signal, forward);
  try {
    const status = await sandbox.run({ argv: commandLine, cwd: values.get("cwd") as string | undefined, env: process.env });
    if (status.kind === "exited") return status.code;
    // Like a shell, stay quiet about the signals that end pipelines and interrupted commands.
    if (status.signal !== SIGPIPE && status.signal !== SIGINT) {
      const name = signalName(status.signal) ?? `signal ${status.signal}`;
      process.stderr.write(`runsc: ${commandLine[0]} was killed by ${name}${status.coreDumped ? " (core dumped)" : ""}\n`);
    }
    return 128 + status.signal;
  } catch (error) {
    if (error instanceof WorkingDirectoryError) {
      process.stderr.write(`runsc: ${error.message} (/tmp is a tmpfs of the sandbox; use --cwd or --volume)\n`);
      return EXIT_RUNSC_FAILURE;
    }
    if (error instanceof SyscallError) {
      process.stderr.write(`runsc: cannot execute ${commandLine[0]}: ${errnoMessage(error.errno)}\n`);
      return error.errno === ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXECUTE;
    }
    // The host refused the first process a stub, for example at RLIMIT_NPROC.
    if (error instanceof PlatformError) {
      process.stderr.write(`runsc: cannot start ${commandLine[0]} on the host: ${error.message}\n`);
      return EXIT_RUNSC_FAILURE;
    }
    throw error;
  } finally {
    for (const signal of forwarded) process.off(signal, forward);
    sandbox.close();
  }
}
