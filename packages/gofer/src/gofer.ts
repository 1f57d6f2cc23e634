#!/usr/bin/env node
// The gofer program: `node gofer.js --root=DIR --socket-fd=N [--read-only]`.
// It serves the host directory DIR to the client on the other end of the
// SOCK_SEQPACKET socket N, which it inherited, and exits when that end closes.
// spawnGofer starts it. README.md describes the protocol.
import { GoferError } from "./server/GoferError";
import { prepareGoferProcess, serveGofer } from "./server/serveGofer";

const USAGE = "usage: gofer --root=DIR --socket-fd=N [--read-only]";

/** The command line of the gofer program. */
interface GoferArguments {
  root: string;
  socket: number;
  readOnly: boolean;
}

/** Parses the command line, or returns an error message. */
function parseArguments(argv: readonly string[]): GoferArguments | string {
  let root: string | undefined;
  let socket: number | undefined;
  let readOnly = false;
  for (const argument of argv) {
    if (argument.startsWith("--root=")) {
      root = argument.slice("--root=".length);
    } else if (argument.startsWith("--socket-fd=")) {
      const text = argument.slice("--socket-fd=".length);
      socket = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
      if (!Number.isSafeInteger(socket)) {
        return `invalid --socket-fd ${JSON.stringify(text)}: expected a descriptor number`;
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
  if (socket === undefined) {
    return "missing --socket-fd";
  }
  return { root, socket, readOnly };
}

function main(): number {
  const parsed = parseArguments(process.argv.slice(2));
  if (typeof parsed === "string") {
    console.error(`gofer: ${parsed}\n${USAGE}`);
    return 2;
  }
  prepareGoferProcess();
  try {
    return serveGofer(parsed);
  } catch (error) {
    if (error instanceof GoferError) {
      console.error(`gofer: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

process.exit(main());
