import { EventEmitter } from "node:events";
import type TypedEmitter from "typed-emitter";

/** A socket address: an IP address as text and a port. */
export interface SockAddr {
  /** IPv4 or IPv6 address as text; "0.0.0.0" or "::" for any. */
  address: string;
  /** Port number, or the echo identifier for ICMP sockets. */
  port: number;
}

/** Events every socket emits. */
export type SocketEvents = {
  /** Readiness may have changed; `mask` is the current EPOLL* mask. */
  readiness: (mask: number) => void;
};

/**
 * The BSD socket calls, one method per system call, so the Sentry can map
 * each socket system call onto one method. Calls never block: where Linux
 * would block, they return -EAGAIN (or -EINPROGRESS for connect) and the
 * caller waits for a "readiness" event. Failures are negative errno values.
 */
export interface Socket extends TypedEmitter<SocketEvents> {
  /** AF_INET or AF_INET6. */
  readonly domain: number;
  /** SOCK_STREAM or SOCK_DGRAM. */
  readonly type: number;
  /** The IP protocol number. */
  readonly protocol: number;
  /** bind(2). Returns 0 or a negative errno. */
  bind(addr: SockAddr): number;
  /** connect(2). Returns 0, -EINPROGRESS while a TCP handshake runs, or a negative errno. A null address dissolves a UDP association. */
  connect(addr: SockAddr | null): number;
  /** listen(2). */
  listen(backlog: number): number;
  /** accept(2): a connected socket, or a negative errno (-EAGAIN if none is ready). */
  accept(): Socket | number;
  /** send(2)/sendto(2): bytes taken, or a negative errno. */
  sendto(data: Uint8Array, flags: number, addr: SockAddr | null): number;
  /** recv(2)/recvfrom(2): bytes read into `buf` (0 at end of stream), or a negative errno. `from` is filled in if given. */
  recvfrom(buf: Uint8Array, flags: number, from: SockAddr | null): number;
  /** shutdown(2). */
  shutdown(how: number): number;
  /** close(2). */
  close(): void;
  /** setsockopt(2) for integer options. */
  setsockopt(level: number, name: number, value: number): number;
  /** getsockopt(2) for integer options: the value, or a negative errno. */
  getsockopt(level: number, name: number): number;
  /** getsockname(2): the local address, or a negative errno. */
  getsockname(): SockAddr | number;
  /** getpeername(2): the remote address, or a negative errno. */
  getpeername(): SockAddr | number;
  /** The current EPOLL* readiness mask, as poll(2) would report. */
  readiness(): number;
}

/** The EventEmitter base class typed with SocketEvents. */
export const SocketEmitter = EventEmitter as unknown as new () => TypedEmitter<SocketEvents>;
