import { NetError } from "../errno";
import { DeviceEndpoint } from "./DeviceEndpoint";
import { openPacketSocket, packetVnetHdr, setNonBlocking } from "./device.native";
import { randomMac } from "./LinkEndpoint";

/** Options of an AF_PACKET endpoint. */
export interface PacketOptions {
  /** MTU of the link; default 1500. It should match the interface's MTU. */
  mtu?: number;
  /** The endpoint's MAC address; default random, so the host's own stack ignores our frames. */
  mac?: Uint8Array;
}

/**
 * A link endpoint on an AF_PACKET socket bound to a host interface, such as
 * one end of a veth pair. It uses PACKET_VNET_HDR, so frames from the local
 * host keep their partial checksums and large segments (marked as valid) and
 * ours may use TSO. Readiness comes from a worker thread in poll(2).
 */
export class PacketEndpoint extends DeviceEndpoint {
  private constructor(fd: number, readonly interfaceName: string, mtu: number, mac: Uint8Array, vnet: boolean, owns: boolean) {
    super(fd, mtu, mac, vnet, vnet, owns);
  }

  /** Opens an AF_PACKET socket on `ifname`. Needs CAP_NET_RAW. Throws a NetError on failure. */
  static open(ifname: string, options: PacketOptions = {}): PacketEndpoint {
    const fd = openPacketSocket(ifname);
    if (fd < 0) throw new NetError(-fd, `AF_PACKET on ${ifname}`);
    return new PacketEndpoint(fd, ifname, options.mtu ?? 1500, options.mac ?? randomMac(), true, true);
  }

  /**
   * Wraps an already-open, bound AF_PACKET socket handed over by a more
   * privileged process. It is switched to non-blocking mode and closed with
   * the endpoint only if `owns` is set.
   */
  static fromFd(fd: number, options: PacketOptions = {}, owns = false): PacketEndpoint {
    const vnet = packetVnetHdr(fd);
    if (typeof vnet === "number") throw new NetError(-vnet, "getsockopt(PACKET_VNET_HDR)");
    const nb = setNonBlocking(fd);
    if (nb < 0) throw new NetError(-nb, "fcntl");
    return new PacketEndpoint(fd, `fd ${fd}`, options.mtu ?? 1500, options.mac ?? randomMac(), vnet, owns);
  }
}
