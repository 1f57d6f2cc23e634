/**
 * @sandbox/netstack: a user-space TCP/IP stack. This file is the package's
 * whole public API.
 */
export { Stack, type StackOptions, type NicOptions, type RouteSpec } from "./stack/Stack";
export { Nic, type NicAddress } from "./stack/Nic";
export type { NeighborCacheOptions } from "./stack/NeighborCache";
export type { TcpProtocolOptions } from "./tcp/TcpProtocol";
export { Counters } from "./Counters";
export { Errno, NetError, errnoName } from "./errno";
export * from "./socket/constants";
export { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from "./header/ipv4";
export type { Socket, SockAddr, SocketEvents } from "./socket/Socket";
export { TcpSocket, TcpState, type TcpInfo } from "./tcp/TcpSocket";
export { UdpSocket } from "./udp/UdpSocket";
export { PingSocket } from "./udp/PingSocket";
export {
  type LinkEndpoint,
  type NetworkDispatcher,
  type TxOffload,
  CAP_LOOPBACK,
  CAP_TX_CHECKSUM_OFFLOAD,
  CAP_GSO,
  RX_CHECKSUM_VALID,
  GSO_NONE,
  GSO_TCPV4,
  GSO_TCPV6,
  randomMac,
} from "./link/LinkEndpoint";
export { MemoryLinkEndpoint, createMemoryLinkPair, type MemoryLinkOptions } from "./link/MemoryLink";
export { LoopbackEndpoint } from "./link/LoopbackEndpoint";
export { BufferPool, defaultPool } from "./BufferPool";
export { checksum, pseudoHeaderChecksum } from "./checksum";
export { parseAddress, formatAddress, parseMac, formatMac } from "./address";
export { TcpStream, connectTcp } from "./node/TcpStream";
export { TcpServer } from "./node/TcpServer";
export { UdpChannel, type UdpMessage } from "./node/UdpChannel";
export { TapEndpoint, type TapOptions } from "./link/TapEndpoint";
export { PacketEndpoint, type PacketOptions } from "./link/PacketEndpoint";
export { DeviceEndpoint, type DeviceStats } from "./link/DeviceEndpoint";
export { openTapDevice, openPacketSocket } from "./link/device.native";
