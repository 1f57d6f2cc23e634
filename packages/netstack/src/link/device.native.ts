import { closeSync, constants, openSync } from "node:fs";
import { createRequire } from "node:module";
import koffi from "koffi";

/**
 * The few libc calls the device endpoints need, through koffi: ioctl on TAP
 * devices, AF_PACKET sockets, eventfd and fcntl. A failed call returns a
 * negative errno (from koffi.errno()) instead of throwing.
 */

const libc = koffi.load("libc.so.6");
const ioctlPtr = libc.func("int ioctl(int fd, unsigned long request, _Inout_ uint8_t *arg)");
const ioctlInt = libc.func("int ioctl(int fd, unsigned long request, unsigned long arg)");
const socketFn = libc.func("int socket(int domain, int type, int protocol)");
const bindFn = libc.func("int bind(int fd, const uint8_t *addr, uint32_t len)");
const setsockoptFn = libc.func("int setsockopt(int fd, int level, int name, const uint8_t *value, uint32_t len)");
const getsockoptFn = libc.func("int getsockopt(int fd, int level, int name, _Inout_ uint8_t *value, _Inout_ uint32_t *len)");
const ifNameToIndex = libc.func("unsigned int if_nametoindex(const char *name)");
const eventfdFn = libc.func("int eventfd(unsigned int initval, int flags)");
const closeFn = libc.func("int close(int fd)");
const fcntlFn = libc.func("int fcntl(int fd, int cmd, int arg)");

function check(r: number): number {
  return r < 0 ? -koffi.errno() : r;
}

/** TUNSETIFF: _IOW('T', 202, int). */
export const TUNSETIFF = 0x400454ca;
/** TUNGETIFF: _IOR('T', 210, unsigned int). */
export const TUNGETIFF = 0x800454d2;
/** TUNSETOFFLOAD: _IOW('T', 208, unsigned int). */
export const TUNSETOFFLOAD = 0x400454d0;
/** TUNSETVNETHDRSZ: _IOW('T', 216, int). */
export const TUNSETVNETHDRSZ = 0x400454d8;
/** TAP device flag. */
export const IFF_TAP = 0x0002;
/** No packet information header. */
export const IFF_NO_PI = 0x1000;
/** Prefix frames with a virtio_net_hdr. */
export const IFF_VNET_HDR = 0x4000;
/** Offload flags for TUNSETOFFLOAD: checksum, TSO over IPv4 and IPv6. */
export const TUN_F_CSUM = 0x01;
/** TSO over IPv4. */
export const TUN_F_TSO4 = 0x02;
/** TSO over IPv6. */
export const TUN_F_TSO6 = 0x04;

/** Applies TUNSETIFF to an open /dev/net/tun descriptor; returns 0 or -errno. */
export function tunSetIff(fd: number, name: string, flags: number): number {
  const ifr = new Uint8Array(40);
  ifr.set(new TextEncoder().encode(name).subarray(0, 15), 0);
  new DataView(ifr.buffer).setUint16(16, flags, true);
  return check(ioctlPtr(fd, TUNSETIFF, ifr));
}

/**
 * Opens /dev/net/tun and creates or attaches to the TAP device `name`, with
 * a virtio_net_hdr prefix when `vnet` is set. Returns the descriptor or
 * -errno. A privileged process can open the device this way and hand the
 * descriptor to TapEndpoint.fromFd in a less privileged one.
 */
export function openTapDevice(name: string, vnet = true): number {
  let fd: number;
  try {
    // 0o2000000 is O_CLOEXEC, which Node does not export.
    fd = openSync("/dev/net/tun", constants.O_RDWR | constants.O_NONBLOCK | 0o2000000);
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).errno;
    return errno === undefined ? -2 : -Math.abs(errno);
  }
  const r = tunSetIff(fd, name, IFF_TAP | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0));
  if (r < 0) {
    closeSync(fd);
    return r;
  }
  return fd;
}

/** Reads the name and flags of a TAP descriptor (TUNGETIFF). */
export function tunGetIff(fd: number): { name: string; flags: number } | number {
  const ifr = new Uint8Array(40);
  const r = check(ioctlPtr(fd, TUNGETIFF, ifr));
  if (r < 0) return r;
  const end = ifr.indexOf(0);
  return { name: new TextDecoder().decode(ifr.subarray(0, end < 0 ? 16 : end)), flags: new DataView(ifr.buffer).getUint16(16, true) };
}

/** Sets the offloads the TAP reader accepts (TUNSETOFFLOAD). */
export function tunSetOffload(fd: number, flags: number): number {
  return check(ioctlInt(fd, TUNSETOFFLOAD, flags));
}

/** Sets the virtio_net_hdr size of a TAP descriptor (TUNSETVNETHDRSZ). */
export function tunSetVnetHdrSize(fd: number, size: number): number {
  const v = new Uint8Array(4);
  new DataView(v.buffer).setInt32(0, size, true);
  return check(ioctlPtr(fd, TUNSETVNETHDRSZ, v));
}

const AF_PACKET = 17;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const ETH_P_ALL_BE = 0x0300;
const SOL_PACKET = 263;
/** PACKET_VNET_HDR socket option. */
export const PACKET_VNET_HDR = 15;
const PACKET_IGNORE_OUTGOING = 23;

/**
 * Opens a non-blocking AF_PACKET socket bound to interface `ifname`, with
 * virtio_net_hdr framing. Returns the descriptor or -errno. Like
 * openTapDevice, it can run in a privileged process that hands the
 * descriptor over.
 */
export function openPacketSocket(ifname: string): number {
  const index = ifNameToIndex(ifname);
  if (index === 0) return -koffi.errno();
  const fd = check(socketFn(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, ETH_P_ALL_BE));
  if (fd < 0) return fd;
  const one = new Uint8Array([1, 0, 0, 0]);
  let r = check(setsockoptFn(fd, SOL_PACKET, PACKET_VNET_HDR, one, 4));
  if (r === 0) r = check(setsockoptFn(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, one, 4));
  if (r === 0) {
    const sll = new Uint8Array(20);
    const dv = new DataView(sll.buffer);
    dv.setUint16(0, AF_PACKET, true);
    dv.setUint16(2, ETH_P_ALL_BE, true);
    dv.setInt32(4, index, true);
    r = check(bindFn(fd, sll, 20));
  }
  if (r < 0) {
    closeFn(fd);
    return r;
  }
  return fd;
}

/** Reports whether an AF_PACKET socket has PACKET_VNET_HDR on, or returns -errno. */
export function packetVnetHdr(fd: number): boolean | number {
  const v = new Uint8Array(4);
  const len = [4];
  const r = check(getsockoptFn(fd, SOL_PACKET, PACKET_VNET_HDR, v, len));
  if (r < 0) return r;
  return v[0] !== 0;
}

/** Sets O_NONBLOCK on a descriptor. */
export function setNonBlocking(fd: number): number {
  const F_GETFL = 3;
  const F_SETFL = 4;
  const O_NONBLOCK = 0o4000;
  const flags = check(fcntlFn(fd, F_GETFL, 0));
  if (flags < 0) return flags;
  return check(fcntlFn(fd, F_SETFL, flags | O_NONBLOCK));
}

/** Creates an eventfd (EFD_CLOEXEC). */
export function createEventFd(): number {
  return check(eventfdFn(0, 0o2000000));
}

/** Closes a descriptor opened here. */
export function closeFd(fd: number): number {
  return check(closeFn(fd));
}

/** The resolved path of koffi, for the poller worker to load. */
export const koffiPath = createRequire(import.meta.url).resolve("koffi");
