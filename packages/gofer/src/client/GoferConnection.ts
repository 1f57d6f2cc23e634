import { closeSync } from "node:fs";
import { Errno, SyscallError } from "@sandbox/abi";
import { MessageBuffer } from "../native/seqpacket.native";
import { MAX_MESSAGE, MessageType, messageTypeName, RELEASE_MAX } from "../protocol/messages";
import { MessageReader, MessageTooShortError } from "../protocol/MessageReader";
import { MessageWriter } from "../protocol/MessageWriter";

/**
 * Decodes a successful reply. `reader` is positioned at the body and is
 * valid only during the call. `fd` is the descriptor that came with the
 * reply, or -1. The parser owns it and closes it if it throws.
 */
export type ReplyParser<T> = (reader: MessageReader, fd: number) => T;

/**
 * The client end of a gofer socket: synchronous requests, one at a time.
 * Each request blocks the calling thread in recvmsg until the gofer replies,
 * as the Sentry's file operations are synchronous.
 *
 * When the gofer is gone (its end closed, a socket error, or a reply that
 * breaks the protocol), the connection closes its socket, and that request
 * and every later one fail with EIO instead of waiting.
 *
 * Handles of inodes that were garbage-collected are released in one RELEASE
 * message before the next request (see track).
 */
export class GoferConnection {
  private socket: number;
  private buffer: MessageBuffer | undefined;
  private readonly writer: MessageWriter;
  private nextTag = 1;
  private sent = 0;
  private pendingReleases: number[] = [];
  private readonly releases = new FinalizationRegistry<number>((handle) => {
    this.pendingReleases.push(handle);
  });

  /** Takes `socket`, the client end of a connected SOCK_SEQPACKET socket whose other end a gofer serves. */
  constructor(socket: number) {
    if (!Number.isInteger(socket) || socket < 0) {
      throw new RangeError(`invalid socket descriptor ${socket}: expected a non-negative integer`);
    }
    this.socket = socket;
    this.buffer = new MessageBuffer(MAX_MESSAGE);
    this.writer = new MessageWriter(this.buffer.bytes);
  }

  /** Number of requests sent so far, for tests and logs. */
  get requestCount(): number {
    return this.sent;
  }

  /** True until the connection was closed or the gofer was found gone. */
  get connected(): boolean {
    return this.buffer !== undefined;
  }

  /**
   * Releases the gofer handle `handle` once `owner` is garbage-collected.
   * Each handle that WALK, CREATE, MKDIR or SYMLINK returned holds one
   * reference in the gofer, so each is tracked once.
   */
  track(owner: object, handle: number): void {
    this.releases.register(owner, handle);
  }

  /**
   * Sends one request of type `type`, whose body `build` writes, and
   * decodes the reply with `parse`. Throws SyscallError with the gofer's
   * errno when the request failed, and EIO when the gofer is gone.
   */
  request<T>(type: MessageType, build: (writer: MessageWriter) => void, parse: ReplyParser<T>): T {
    if (this.pendingReleases.length > 0 && type !== MessageType.RELEASE) {
      this.flushReleases();
    }
    const buffer = this.liveBuffer(type);
    this.sent++;
    const tag = this.nextTag;
    this.nextTag = (this.nextTag + 1) >>> 0 || 1;

    this.writer.start(type, 0, tag);
    build(this.writer);
    const sent = buffer.send(this.socket, this.writer.length, -1);
    if (sent < 0) {
      throw this.fail(type, `sendmsg failed with errno ${-sent}`);
    }

    const length = buffer.receive(this.socket);
    if (length <= 0) {
      throw this.fail(type, length === 0 ? "the gofer closed the connection" : `recvmsg failed with errno ${-length}`);
    }
    const fd = buffer.receivedFd;
    try {
      const reader = new MessageReader(buffer.bytes, length);
      if (reader.tag !== tag || reader.type !== type) {
        throw this.fail(type, `reply ${messageTypeName(reader.type)} with tag ${reader.tag} to request tag ${tag}`);
      }
      if (reader.errno !== 0) {
        throw new SyscallError(reader.errno, `gofer ${messageTypeName(type)}`);
      }
      return parse(reader, fd);
    } catch (error) {
      if (fd >= 0) {
        closeFdQuietly(fd);
      }
      if (error instanceof MessageTooShortError) {
        throw this.fail(type, `malformed reply: ${error.message}`);
      }
      throw error;
    }
  }

  /** Closes the socket, which makes the gofer exit. Later requests fail with EIO. */
  close(): void {
    if (this.buffer === undefined) {
      return;
    }
    this.buffer.free();
    this.buffer = undefined;
    closeSync(this.socket);
    this.socket = -1;
  }

  private liveBuffer(type: MessageType): MessageBuffer {
    if (this.buffer === undefined) {
      throw new SyscallError(Errno.EIO, `gofer ${messageTypeName(type)}: the gofer connection is closed`);
    }
    return this.buffer;
  }

  /** Closes the connection after a transport or protocol failure and returns the EIO to throw. */
  private fail(type: MessageType, detail: string): SyscallError {
    this.close();
    return new SyscallError(Errno.EIO, `gofer ${messageTypeName(type)}: ${detail}`);
  }

  /**
   * Sends the handles of collected inodes back. A failure other than EIO
   * (an unknown handle) concerns no caller, so it is dropped here.
   */
  private flushReleases(): void {
    while (this.pendingReleases.length > 0) {
      const batch = this.pendingReleases.splice(0, RELEASE_MAX);
      try {
        this.request(
          MessageType.RELEASE,
          (writer) => {
            writer.u32(batch.length);
            for (const handle of batch) writer.u32(handle);
          },
          () => undefined,
        );
      } catch (error) {
        if (!(error instanceof SyscallError) || error.errno === Errno.EIO) {
          throw error;
        }
      }
    }
  }
}

function closeFdQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Nothing is left to undo, and the error being thrown matters more.
  }
}
