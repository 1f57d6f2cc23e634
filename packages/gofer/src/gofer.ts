#!/usr/bin/env node
// The gofer program:
//   node gofer.js --root=DIR --socket-fd=N [--read-only]
//   node gofer.js --root=DIR --handoff=PARENT_PID [--read-only]
// It serves the host directory DIR to one client over a SOCK_SEQPACKET
// socket, and exits when the client closes its end. With --socket-fd the
// socket is descriptor N, which it inherited (spawnGofer starts it so). With
// --handoff its parent connects to it (protocol/handoff.ts); runsc's
// launcher starts it so. README.md describes the protocol.
import { GoferError } from "./server/GoferError";
import { acceptHandoff } from "./server/acceptHandoff";
import { prepareGoferProcess, serveGofer } from "./server/serveGofer";

const USAGE = "usage: gofer --root=DIR (--socket-fd=N | --handoff=PARENT_PID) [--read-only]";

/** The command line of the gofer program: exactly one of `socket` and `handoff` is set. */
interface GoferArguments {
  root: string;
  socket?: number;
  /** The pid of the parent that connects to this gofer. */
  handoff?: number;
  readOnly: boolean;
}

/** Parses a decimal non-negative integer, or returns undefined. */
function parseNumber(text: string): number | undefined {
  const value = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  return Number.isSafeInteger(value) ? value : undefined;
}

/** Parses the command line, or returns an error message. */
function parseArguments(argv: readonly string[]): GoferArguments | string {
  let root: string | undefined;
  let socket: number | undefined;
  let handoff: number | undefined;
  let readOnly = false;
  for (const argument of argv) {
    if (argument.startsWith("--root=")) {
      root = argument.slice("--root=".length);
    } else if (argument.startsWith("--socket-fd=")) {
      const text = argument.slice("--socket-fd=".length);
      socket = parseNumber(text);
      if (socket === undefined) {
        return `invalid --socket-fd ${JSON.stringify(text)}: expected a descriptor number`;
      }
    } else if (argument.startsWith("--handoff=")) {
      const text = argument.slice("--handoff=".length);
      handoff = parseNumber(text);
      if (handoff === undefined || handoff === 0) {
        return `invalid --handoff ${JSON.stringify(text)}: expected a process id`;
      }
    } else if (argument === "--read-only") {
      readOnly = true;
    } else {
      return `unknown argument ${JSON.stringify(argument)}`;
    }
  }
  if (root === undefined || root === "") {
    return "missing --root";
  }
  if (socket === undefined && handoff === undefined) {
    return "missing --socket-fd or --handoff";
  }
  if (socket !== undefined && handoff !== undefined) {
    return "--socket-fd and --handoff exclude each other";
  }
  return { root, socket, handoff, readOnly };
}

function main(): number {
  const parsed = parseArguments(process.argv.slice(2));
  if (typeof parsed === "string") {
    console.error(`gofer: ${parsed}\n${USAGE}`);
    return 2;
  }
  prepareGoferProcess();
  try {
    let socket = parsed.socket;
    if (parsed.handoff !== undefined) {
      socket = acceptHandoff(parsed.handoff);
      // The parent died before the gofer started, so no client will come. It exits without a message.
      if (socket === undefined) return 1;
    }
    return serveGofer({ root: parsed.root, readOnly: parsed.readOnly, socket: socket as number });
  } catch (error) {
    if (error instanceof GoferError) {
      console.error(`gofer: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

process.exit(main());
