/** Socket API constants with their Linux values (include/linux/socket.h, in.h, tcp.h, eventpoll.h). */

/** Address family IPv4. */
export const AF_INET = 2;
/** Address family IPv6. */
export const AF_INET6 = 10;
/** Stream socket (TCP). */
export const SOCK_STREAM = 1;
/** Datagram socket (UDP, or ICMP echo with IPPROTO_ICMP/IPPROTO_ICMPV6). */
export const SOCK_DGRAM = 2;

/** Socket-level options. */
export const SOL_SOCKET = 1;
/** Allow binding a port still held by connections in TIME_WAIT, or shared by UDP sockets that all set it. */
export const SO_REUSEADDR = 2;
/** The socket type (read only). */
export const SO_TYPE = 3;
/** Reads and clears the pending error. */
export const SO_ERROR = 4;
/** Allow sending to broadcast addresses. */
export const SO_BROADCAST = 6;
/** Send buffer size in bytes. */
export const SO_SNDBUF = 7;
/** Receive buffer size in bytes. */
export const SO_RCVBUF = 8;
/** Enable TCP keepalive probes. */
export const SO_KEEPALIVE = 9;
/** Linger on close: a value of 0 makes close() abort with RST; a negative value turns lingering off. */
export const SO_LINGER = 13;

/** IPv4-level options. */
export const IPPROTO_IP = 0;
/** Type of service byte. */
export const IP_TOS = 1;
/** TTL of outgoing packets. */
export const IP_TTL = 2;
/** IPv6-level options. */
export const IPPROTO_IPV6 = 41;
/** Hop limit of outgoing unicast packets. */
export const IPV6_UNICAST_HOPS = 16;
/** Restricts an AF_INET6 socket to IPv6 (always 1 here). */
export const IPV6_V6ONLY = 26;

/** TCP-level options (the protocol number). */
export const SOL_TCP = 6;
/** Disable Nagle's algorithm. */
export const TCP_NODELAY = 1;
/** Maximum segment size. */
export const TCP_MAXSEG = 2;
/** Hold back partial segments until uncorked. */
export const TCP_CORK = 3;
/** Idle seconds before the first keepalive probe. */
export const TCP_KEEPIDLE = 4;
/** Seconds between keepalive probes. */
export const TCP_KEEPINTVL = 5;
/** Unanswered probes before the connection is dropped. */
export const TCP_KEEPCNT = 6;
/** Bytes acknowledged immediately rather than delayed: 1 turns delayed ACKs off. */
export const TCP_QUICKACK = 12;

/** recv: look at data without removing it. */
export const MSG_PEEK = 0x2;
/** Ignored: every call here is non-blocking. */
export const MSG_DONTWAIT = 0x40;
/** send: no SIGPIPE (there is none here; accepted for compatibility). */
export const MSG_NOSIGNAL = 0x4000;

/** shutdown: no more receives. */
export const SHUT_RD = 0;
/** shutdown: no more sends (sends FIN). */
export const SHUT_WR = 1;
/** shutdown: both. */
export const SHUT_RDWR = 2;

/** Readiness: data (or a connection, or EOF) can be read. */
export const EPOLLIN = 0x1;
/** Readiness: data can be written. */
export const EPOLLOUT = 0x4;
/** Readiness: an error is pending. */
export const EPOLLERR = 0x8;
/** Readiness: both directions are shut down. */
export const EPOLLHUP = 0x10;
/** Readiness: the peer closed its sending side. */
export const EPOLLRDHUP = 0x2000;
