import { closeSync } from "node:fs";
import { Errno, Signal } from "@sandbox/abi";
import { MAX_MESSAGE } from "../protocol/messages";
import { MessageReader, MessageTooShortError } from "../protocol/MessageReader";
import { MessageWriter } from "../protocol/MessageWriter";
import { isSeqpacketSocket, MessageBuffer } from "../native/seqpacket.native";
import { GoferServer, type GoferServerOptions } from "./GoferServer";
import { setParentDeathSignal } from "./host.native";

/** Options of serveGofer. */
export interface ServeGoferOptions extends GoferServerOptions {
  /** The gofer's end of a connected AF_UNIX SOCK_SEQPACKET socket. */
  socket: number;
}

/**
 * Runs the gofer on `socket` until the client closes its end (or dies, which
 * closes it), then closes every host descriptor and returns. It handles one
 * request at a time and blocks the calling thread in recvmsg meanwhile, so it
 * is meant for the gofer's own process (see gofer.ts).
 *
 * Returns 0 after the client closed the socket, and 1 when `socket` is no
 * SOCK_SEQPACKET socket, after a socket error, or after a message that breaks
 * the protocol (it then logs why and stops).
 */
export function serveGofer(options: ServeGoferOptions): number {
  const server = new GoferServer(options);
  if (!isSeqpacketSocket(options.socket)) {
    server.close();
    console.error(`gofer: descriptor ${options.socket} is not a SOCK_SEQPACKET socket`);
    return 1;
  }
  const incoming = new MessageBuffer(MAX_MESSAGE);
  const outgoing = new MessageBuffer(MAX_MESSAGE);
  const writer = new MessageWriter(outgoing.bytes);
  try {
    for (;;) {
      const length = incoming.receive(options.socket);
      if (length === 0) {
        return 0;
      }
      if (length < 0) {
        console.error(`gofer: recvmsg failed with errno ${-length}, stopping`);
        return 1;
      }
      if (incoming.receivedFd >= 0) {
        // Clients send no descriptors, so one that came anyway is closed.
        closeSync(incoming.receivedFd);
      }

      let request: MessageReader;
      try {
        request = new MessageReader(incoming.bytes, length);
      } catch (error) {
        if (error instanceof MessageTooShortError) {
          console.error(`gofer: ${error.message}, stopping`);
          return 1;
        }
        throw error;
      }

      const fd = server.handle(request, writer);
      const sent = outgoing.send(options.socket, writer.length, fd);
      if (fd >= 0) {
        closeSync(fd);
      }
      if (sent < 0) {
        if (sent !== -Errno.EPIPE && sent !== -Errno.ECONNRESET) {
          console.error(`gofer: sendmsg failed with errno ${-sent}, stopping`);
          return 1;
        }
        return 0;
      }
    }
  } finally {
    server.close();
    incoming.free();
    outgoing.free();
  }
}

/**
 * Prepares the gofer's own process: a umask of 0, because the client sends
 * modes that its own umask already shaped, and SIGKILL when the thread that
 * started the process exits, in addition to the end of the socket.
 */
export function prepareGoferProcess(): void {
  process.umask(0);
  setParentDeathSignal(Signal.SIGKILL);
}
