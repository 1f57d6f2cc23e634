import { DO_FLAGS, describeFlags, FlagValueError, type FlagValues, GLOBAL_FLAGS, parseFlags, UsageError } from "./flags";
import { discardPrestartedGofers } from "@sandbox/gofer";
import { runDo } from "./do";

/** Exit status of runsc's own failures, as docker, podman and gVisor's runsc use it. */
export const EXIT_RUNSC_FAILURE = 125;
/** Exit status of a command-line usage error. */
export const EXIT_USAGE = 2;

const USAGE = `Usage: runsc [GLOBAL FLAGS] COMMAND [FLAGS] [ARGS...]

runsc runs Linux programs in a sandbox: every system call of the program is
served by the Sentry, a kernel written in TypeScript, and none reaches the host.

Commands:
  do [FLAGS] [--] CMD [ARG...]   run CMD in a new sandbox, with the host root
                                 visible read-only and the current directory
                                 as working directory; exits with CMD's status

Global flags (also accepted after the command):
${describeFlags(GLOBAL_FLAGS)}
`;

const DO_USAGE = `Usage: runsc [GLOBAL FLAGS] do [FLAGS] [--] CMD [ARG...]

Runs CMD in a new sandbox. Flag parsing stops at the first word that is not a
flag, so \`runsc do ls -la\` runs \`ls -la\`. The exit status is CMD's, 128+N if
CMD was killed by signal N, 125 if runsc itself failed, and 126 or 127 if CMD
could not be executed or found.

Flags:
${describeFlags(DO_FLAGS)}

Global flags:
${describeFlags(GLOBAL_FLAGS)}
`;

/** Runs the runsc command line and returns the exit status. */
export async function main(args: readonly string[]): Promise<number> {
  const values: FlagValues = new Map();
  let command: string | undefined;
  try {
    let index = parseFlags(args, 0, GLOBAL_FLAGS, values);
    command = args[index];
    if (command === undefined || command === "help") {
      process.stdout.write(USAGE);
      return values.get("help") === true || command === "help" ? 0 : EXIT_USAGE;
    }
    if (command !== "do") throw new UsageError(`unknown command: ${command}`);

    index = parseFlags(args, index + 1, [...GLOBAL_FLAGS, ...DO_FLAGS], values);
    if (values.get("help") === true) {
      process.stdout.write(DO_USAGE);
      return 0;
    }
    const commandLine = args.slice(index);
    if (commandLine.length === 0) throw new UsageError("do needs a command to run");
    return await runDo(values, commandLine);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`runsc: ${error.message}\n\n${command === "do" ? DO_USAGE : USAGE}`);
      return EXIT_USAGE;
    }
    if (error instanceof FlagValueError) {
      process.stderr.write(`runsc: ${error.message}\n`);
      return EXIT_RUNSC_FAILURE;
    }
    throw error;
  }
}

/** Runs runsc with the process's arguments and sets the process exit code; the bin script calls this. */
export function runFromCommandLine(): void {
  main(process.argv.slice(2))
    .then(
      (status) => {
        process.exitCode = status;
      },
      (error: unknown) => {
        process.stderr.write(`runsc: internal error: ${(error as Error)?.stack ?? error}\n`);
        process.exitCode = EXIT_RUNSC_FAILURE;
      },
    )
    .finally(discardPrestartedGofers);
}
