import { closeSync } from "node:fs";
import { Errno, errnoMessage } from "@sandbox/abi";
import { acceptWithTimeout, listenAbstract, peerPid } from "../native/abstractSocket.native";
import { handoffAddress } from "../protocol/handoff";
import { GoferError } from "./GoferError";
import { createSession, parentPid } from "./host.native";

/**
 * How long a handed-off gofer waits for its parent to connect, in
 * milliseconds. runsc connects while it starts, well within it.
 */
export const HANDOFF_TIMEOUT_MS = 10_000;

/** Connections that may wait to be accepted: the parent's, and a few from processes that are turned away. */
const BACKLOG = 8;

/**
 * Accepts the gofer's connection in handoff mode (`--handoff=PARENT`, see
 * ../protocol/handoff.ts). It leaves the terminal's session and listens on
 * the parent's handoff address. It closes every connection of another
 * process, and returns the first one that process `parent` makes, after it
 * closed the listener. Call prepareGoferProcess first, so that the gofer
 * dies with its parent from then on.
 *
 * Returns undefined when the gofer's parent is no longer `parent`, because
 * that process died and no client will come. Throws GoferError when the
 * address is taken or the parent did not connect within `timeoutMs`.
 */
export function acceptHandoff(parent: number, timeoutMs = HANDOFF_TIMEOUT_MS): number | undefined {
  // The launcher's shell has no job control, so the gofer starts in the
  // shell's process group, the terminal's foreground group when runsc runs
  // in the foreground. Ctrl-C and Ctrl-Z there are for the sandbox, not for
  // its gofer. setsid fails only for a process group leader, whose group is
  // its own already.
  createSession();
  if (parentPid() !== parent) return undefined;

  const listener = listenAbstract(handoffAddress(parent), BACKLOG);
  if (listener < 0) {
    throw new GoferError(-listener, `cannot listen for process ${parent}: ${errnoMessage(-listener)}`);
  }
  const deadline = performance.now() + timeoutMs;
  try {
    for (;;) {
      const fd = acceptWithTimeout(listener, deadline - performance.now());
      if (fd === -Errno.ETIMEDOUT) {
        throw new GoferError(Errno.ETIMEDOUT, `process ${parent} did not connect within ${timeoutMs} ms`);
      }
      if (fd < 0) {
        throw new GoferError(-fd, `accept failed: ${errnoMessage(-fd)}`);
      }
      if (peerPid(fd) === parent) return fd;
      closeSync(fd);
    }
  } finally {
    closeSync(listener);
  }
}
