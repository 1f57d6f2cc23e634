/** A command-line flag of runsc. */
export interface FlagSpec {
  readonly name: string;
  /** "boolean" flags take no value; "string" flags take `--name=value` or `--name value`. */
  readonly kind: "boolean" | "string" | "list";
  readonly help: string;
  /** Allowed values, checked when set. */
  readonly choices?: readonly string[];
  readonly defaultValue?: string;
}

/** Flags accepted before the command and again after it, as gVisor's runsc does. */
export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  { name: "platform", kind: "string", choices: ["auto", "ptrace", "systrap", "kvm"], defaultValue: "auto", help: "platform that runs the application: auto, ptrace, systrap or kvm" },
  { name: "network", kind: "string", choices: ["sandbox", "none", "host"], defaultValue: "sandbox", help: "network stack: sandbox, none or host (sockets are not served yet, so none of them gives network access)" },
  { name: "root", kind: "string", defaultValue: "/var/run/runsc", help: "state directory of the OCI runtime commands, which this runsc does not have yet" },
  { name: "debug", kind: "boolean", help: "log debug messages, including the platform choice, to stderr or --debug-log" },
  { name: "debug-log", kind: "string", help: "file to write log messages to instead of stderr" },
  { name: "strace", kind: "boolean", help: "print every system call of the sandboxed program in strace's format" },
  { name: "help", kind: "boolean", help: "print this help and exit" },
];

/** Flags of `runsc do` in addition to the global ones. */
export const DO_FLAGS: readonly FlagSpec[] = [
  { name: "cwd", kind: "string", help: "working directory inside the sandbox (default: the current directory)" },
  { name: "hostname", kind: "string", defaultValue: "sandbox", help: "host name the sandbox reports through uname(2)" },
  { name: "volume", kind: "list", help: "HOST:SANDBOX[:ro] bind-mounts a host directory; may be repeated" },
];

/** A flag that runsc does not know or whose value is invalid; usage errors exit with status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A valid flag whose value cannot be used (runsc exits with 125). */
export class FlagValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FlagValueError";
  }
}

export type FlagValues = Map<string, string | boolean | string[]>;

/**
 * Parses flags from `args` until the first word that is not a flag, or
 * after `--`. Returns the values and the index of the first remaining word.
 */
export function parseFlags(args: readonly string[], start: number, specs: readonly FlagSpec[], values: FlagValues): number {
  let index = start;
  while (index < args.length) {
    const arg = args[index];
    if (arg === "--") return index + 1;
    if (!arg.startsWith("-") || arg === "-") return index;

    const body = arg.replace(/^--?/, "");
    const equals = body.indexOf("=");
    const name = equals < 0 ? body : body.slice(0, equals);
    const spec = specs.find((candidate) => candidate.name === name);
    if (spec === undefined) throw new UsageError(`unknown flag: ${arg}`);
    index++;

    if (spec.kind === "boolean") {
      const text = equals < 0 ? "true" : body.slice(equals + 1);
      if (text !== "true" && text !== "false") throw new UsageError(`invalid value "${text}" for --${name}: use true or false`);
      values.set(name, text === "true");
      continue;
    }

    let value: string;
    if (equals >= 0) {
      value = body.slice(equals + 1);
    } else {
      if (index >= args.length) throw new UsageError(`flag --${name} needs a value`);
      value = args[index++];
    }
    if (spec.choices !== undefined && !spec.choices.includes(value)) {
      throw new FlagValueError(`invalid value "${value}" for --${name}: use one of ${spec.choices.join(", ")}`);
    }
    if (spec.kind === "list") {
      const list = (values.get(name) as string[] | undefined) ?? [];
      list.push(value);
      values.set(name, list);
    } else {
      values.set(name, value);
    }
  }
  return index;
}

/** Formats the flag list of a help text. */
export function describeFlags(specs: readonly FlagSpec[]): string {
  return specs
    .map((spec) => {
      const name = spec.kind === "boolean" ? `--${spec.name}` : `--${spec.name}=VALUE`;
      const suffix = spec.defaultValue === undefined ? "" : ` (default: ${spec.defaultValue})`;
      return `  ${name.padEnd(22)} ${spec.help}${suffix}`;
    })
    .join("\n");
}
