import { EventEmitter } from "node:events";
import type TypedEmitter from "typed-emitter";
import { NetError } from "../errno";
import { AF_INET, AF_INET6, SO_REUSEADDR, SOCK_STREAM, SOL_SOCKET } from "../socket/constants";
import type { SockAddr } from "../socket/Socket";
import type { Stack } from "../stack/Stack";
import type { TcpSocket } from "../tcp/TcpSocket";
import { TcpStream } from "./TcpStream";

/** Events of a TcpServer. */
export type TcpServerEvents = {
  /** A connection was accepted. */
  connection: (stream: TcpStream) => void;
};

/** A listening TCP socket that hands each accepted connection out as a TcpStream. */
export class TcpServer extends (EventEmitter as new () => TypedEmitter<TcpServerEvents>) {
  private readonly onReadiness = () => this.acceptAll();

  private constructor(readonly socket: TcpSocket) {
    super();
    socket.on("readiness", this.onReadiness);
  }

  /**
   * Listens on `address`:`port` ("0.0.0.0" or "::" for any address; port 0
   * picks one). Throws a NetError if the address is in use or invalid.
   */
  static listen(stack: Stack, address: string, port: number, backlog = 511): TcpServer {
    const v6 = address.includes(":");
    const s = stack.socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM) as TcpSocket;
    s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    let r = s.bind({ address, port });
    if (r === 0) r = s.listen(backlog);
    if (r < 0) {
      s.close();
      throw new NetError(-r, `${address}:${port}`);
    }
    return new TcpServer(s);
  }

  /** The bound address and port. */
  get address(): SockAddr {
    return this.socket.getsockname() as SockAddr;
  }

  private acceptAll(): void {
    for (;;) {
      const c = this.socket.accept();
      if (typeof c === "number") return;
      this.emit("connection", new TcpStream(c as TcpSocket));
    }
  }

  /** Stops listening; established connections stay open. */
  close(): void {
    this.socket.off("readiness", this.onReadiness);
    this.socket.close();
  }
}
