import { Duplex } from "node:stream";
import { Errno, NetError } from "../errno";
import { AF_INET, AF_INET6, EPOLLERR, EPOLLIN, SHUT_WR, SO_ERROR, SOCK_STREAM, SOL_SOCKET, SOL_TCP, TCP_NODELAY } from "../socket/constants";
import type { SockAddr } from "../socket/Socket";
import type { Stack } from "../stack/Stack";
import type { TcpSocket } from "../tcp/TcpSocket";

/** Bytes read from the socket per read call of the stream. */
const READ_CHUNK = 256 * 1024;

/**
 * A Node Duplex stream over a connected TcpSocket, for library users who
 * want streams rather than the BSD calls. Ending the writable side sends a
 * FIN (half-close); destroying the stream closes the socket.
 */
export class TcpStream extends Duplex {
  private readonly onReadiness = () => this.pump();
  private reading = false;
  private pendingWrite: { chunk: Uint8Array; offset: number; callback: (err?: Error | null) => void } | null = null;
  private pendingFinal: ((err?: Error | null) => void) | null = null;

  constructor(readonly socket: TcpSocket) {
    super({ allowHalfOpen: true, readableHighWaterMark: READ_CHUNK });
    socket.on("readiness", this.onReadiness);
  }

  /** The local address. */
  get localAddress(): SockAddr {
    return this.socket.getsockname() as SockAddr;
  }

  /** The remote address. */
  get remoteAddress(): SockAddr {
    return this.socket.getpeername() as SockAddr;
  }

  /** Turns Nagle's algorithm off (true) or on. */
  setNoDelay(noDelay = true): this {
    this.socket.setsockopt(SOL_TCP, TCP_NODELAY, noDelay ? 1 : 0);
    return this;
  }

  override _read(): void {
    this.reading = true;
    this.pump();
  }

  override _write(chunk: Uint8Array, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.pendingWrite = { chunk, offset: 0, callback };
    this.pump();
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.pendingFinal = callback;
    this.pump();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.socket.off("readiness", this.onReadiness);
    this.socket.close();
    callback(err);
  }

  private fail(errno: number): void {
    this.destroy(new NetError(errno));
  }

  // Moves data between the socket and the stream as far as readiness allows.
  private pump(): void {
    if (this.destroyed) return;
    while (this.reading) {
      const buf = Buffer.allocUnsafe(Math.max(1, Math.min(READ_CHUNK, this.socket.readableBytes)));
      const n = this.socket.recvfrom(buf, 0, null);
      if (n === -Errno.EAGAIN) break;
      if (n < 0) {
        if (n === -Errno.ECONNRESET || n === -Errno.EPIPE || n === -Errno.ETIMEDOUT || n === -Errno.ECONNREFUSED) return this.fail(-n);
        this.reading = false;
        this.push(null);
        break;
      }
      if (n === 0) {
        this.reading = false;
        this.push(null);
        break;
      }
      this.reading = this.push(n === buf.length ? buf : buf.subarray(0, n));
    }

    const w = this.pendingWrite;
    if (w !== null) {
      while (w.offset < w.chunk.length) {
        const n = this.socket.sendto(w.chunk.subarray(w.offset), 0, null);
        if (n === -Errno.EAGAIN) break;
        if (n < 0) {
          this.pendingWrite = null;
          w.callback(new NetError(-n));
          return;
        }
        w.offset += n;
      }
      if (w.offset === w.chunk.length) {
        this.pendingWrite = null;
        w.callback();
      }
    }
    if (this.pendingWrite === null && this.pendingFinal !== null) {
      const cb = this.pendingFinal;
      this.pendingFinal = null;
      const r = this.socket.shutdown(SHUT_WR);
      cb(r < 0 && r !== -Errno.ENOTCONN ? new NetError(-r) : null);
    }
    const mask = this.socket.readiness();
    if ((mask & EPOLLERR) !== 0 && (mask & EPOLLIN) === 0) {
      const e = this.socket.getsockopt(SOL_SOCKET, SO_ERROR);
      if (e > 0) this.fail(e);
    }
  }
}

/**
 * Connects to `address`:`port` through `stack` and resolves with a stream
 * once the handshake completes; rejects with a NetError (such as
 * ECONNREFUSED or ETIMEDOUT).
 */
export function connectTcp(stack: Stack, address: string, port: number, options: { localAddress?: string; localPort?: number } = {}): Promise<TcpStream> {
  const v6 = address.includes(":");
  const s = stack.socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM) as TcpSocket;
  if (options.localAddress !== undefined || options.localPort !== undefined) {
    const r = s.bind({ address: options.localAddress ?? (v6 ? "::" : "0.0.0.0"), port: options.localPort ?? 0 });
    if (r < 0) {
      s.close();
      return Promise.reject(new NetError(-r));
    }
  }
  return new Promise((resolve, reject) => {
    const check = () => {
      const err = s.getsockopt(SOL_SOCKET, SO_ERROR);
      if (err > 0) {
        s.off("readiness", check);
        s.close();
        reject(new NetError(err));
        return;
      }
      if (typeof s.getpeername() !== "number") {
        s.off("readiness", check);
        resolve(new TcpStream(s));
      }
    };
    s.on("readiness", check);
    const r = s.connect({ address, port });
    if (r !== -Errno.EINPROGRESS && r !== 0) {
      s.off("readiness", check);
      s.close();
      reject(new NetError(-r));
    }
  });
}
