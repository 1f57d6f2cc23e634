import { NetError } from "../errno";
import { DeviceEndpoint } from "./DeviceEndpoint";
import { IFF_TAP, IFF_VNET_HDR, openTapDevice, setNonBlocking, TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6, tunGetIff, tunSetOffload, tunSetVnetHdrSize } from "./device.native";
import { randomMac } from "./LinkEndpoint";
import { VNET_HDR_LEN } from "./vnet";

/** Options of a TAP endpoint. */
export interface TapOptions {
  /** MTU of the link; default 1500. It should match the device's MTU on the Linux side. */
  mtu?: number;
  /** The endpoint's MAC address; default random. */
  mac?: Uint8Array;
  /** Use virtio_net_hdr with checksum and TCP segmentation offload when the device has IFF_VNET_HDR; default true. */
  offload?: boolean;
}

/**
 * A link endpoint on a TAP device (/dev/net/tun). With IFF_VNET_HDR it
 * enables checksum offload and TSO (TUNSETOFFLOAD), so Linux hands over and
 * accepts TCP segments of up to 64 KiB. Readiness comes from a worker thread
 * blocked in poll(2) (see DevicePoller).
 */
export class TapEndpoint extends DeviceEndpoint {
  /** The device name. */
  readonly name: string;

  private constructor(fd: number, name: string, mtu: number, mac: Uint8Array, vnet: boolean, offload: boolean, ownsFd: boolean) {
    super(fd, mtu, mac, vnet, offload, ownsFd);
    this.name = name;
  }

  /** Creates (or attaches to) the TAP device `name`. Needs CAP_NET_ADMIN. Throws a NetError on failure. */
  static open(name: string, options: TapOptions = {}): TapEndpoint {
    const fd = openTapDevice(name, options.offload !== false);
    if (fd < 0) throw new NetError(-fd, `open TAP device ${name}`);
    return TapEndpoint.setup(fd, options, true);
  }

  /**
   * Wraps an already-open TAP descriptor, such as one handed over by a more
   * privileged process with SCM_RIGHTS. The descriptor is switched to
   * non-blocking mode; it is closed with the endpoint only if `owns` is set.
   */
  static fromFd(fd: number, options: TapOptions = {}, owns = false): TapEndpoint {
    return TapEndpoint.setup(fd, options, owns);
  }

  private static setup(fd: number, options: TapOptions, owns: boolean): TapEndpoint {
    const info = tunGetIff(fd);
    if (typeof info === "number") throw new NetError(-info, "TUNGETIFF");
    if ((info.flags & IFF_TAP) === 0) throw new NetError(22, `${info.name} is not a TAP device`);
    const vnet = (info.flags & IFF_VNET_HDR) !== 0;
    const offload = vnet && options.offload !== false;
    if (vnet) {
      let r = tunSetVnetHdrSize(fd, VNET_HDR_LEN);
      if (r === 0) r = tunSetOffload(fd, offload ? TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 : 0);
      if (r < 0) throw new NetError(-r, "TUNSETOFFLOAD");
    }
    const nb = setNonBlocking(fd);
    if (nb < 0) throw new NetError(-nb, "fcntl");
    return new TapEndpoint(fd, info.name, options.mtu ?? 1500, options.mac ?? randomMac(), vnet, offload, owns);
  }
}
