import { Errno, NetError } from "../errno";
import { AF_INET, AF_INET6, SO_BROADCAST, SOCK_DGRAM, SOL_SOCKET } from "../socket/constants";
import type { SockAddr } from "../socket/Socket";
import type { Stack } from "../stack/Stack";
import type { UdpSocket } from "../udp/UdpSocket";

/** A received datagram. */
export interface UdpMessage {
  /** Payload. */
  data: Uint8Array;
  /** Sender. */
  from: SockAddr;
}

/**
 * A UDP socket with promise-friendly calls: `send`, and `for await` over
 * received datagrams. Errors reported by ICMP on a connected channel reject
 * the pending iteration with a NetError (ECONNREFUSED for a closed port).
 */
export class UdpChannel implements AsyncIterable<UdpMessage> {
  private waiters: { resolve: (m: IteratorResult<UdpMessage>) => void; reject: (e: Error) => void }[] = [];
  private closed = false;
  private readonly onReadiness = () => this.drain();

  private constructor(readonly socket: UdpSocket) {
    socket.on("readiness", this.onReadiness);
  }

  /** Opens a channel bound to `address`:`port` (port 0 picks one). Throws a NetError on failure. */
  static bind(stack: Stack, address: string, port = 0, options: { broadcast?: boolean } = {}): UdpChannel {
    const s = stack.socket(address.includes(":") ? AF_INET6 : AF_INET, SOCK_DGRAM) as UdpSocket;
    if (options.broadcast === true) s.setsockopt(SOL_SOCKET, SO_BROADCAST, 1);
    const r = s.bind({ address, port });
    if (r < 0) {
      s.close();
      throw new NetError(-r, `${address}:${port}`);
    }
    return new UdpChannel(s);
  }

  /** The bound address. */
  get address(): SockAddr {
    return this.socket.getsockname() as SockAddr;
  }

  /** Associates the channel with one peer (connect(2)); throws a NetError on failure. */
  connect(address: string, port: number): void {
    const r = this.socket.connect({ address, port });
    if (r < 0) throw new NetError(-r);
  }

  /** Sends one datagram, to `to` or to the connected peer. Throws a NetError on failure. */
  send(data: Uint8Array, to?: SockAddr): void {
    const r = this.socket.sendto(data, 0, to ?? null);
    if (r < 0) throw new NetError(-r);
  }

  /** Resolves with the next datagram. */
  receive(): Promise<UdpMessage> {
    return this.next().then((r) => {
      if (r.done === true) throw new NetError(Errno.EBADF, "channel closed");
      return r.value;
    });
  }

  private next(): Promise<IteratorResult<UdpMessage>> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    while (this.waiters.length > 0) {
      if (this.closed) {
        (this.waiters.shift() as (typeof this.waiters)[0]).resolve({ done: true, value: undefined });
        continue;
      }
      const buf = new Uint8Array(65536);
      const from: SockAddr = { address: "", port: 0 };
      const n = this.socket.recvfrom(buf, 0, from);
      if (n === -Errno.EAGAIN) return;
      const w = this.waiters.shift() as (typeof this.waiters)[0];
      if (n < 0) w.reject(new NetError(-n));
      else w.resolve({ done: false, value: { data: buf.slice(0, n), from } });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<UdpMessage> {
    return { next: () => this.next() };
  }

  /** Closes the socket; pending iterations end. */
  close(): void {
    this.closed = true;
    this.socket.off("readiness", this.onReadiness);
    this.socket.close();
    this.drain();
  }
}
