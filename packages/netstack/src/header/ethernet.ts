/** Ethernet II header layout (IEEE 802.3). */

/** Offset of the destination MAC address. */
export const ETH_DST = 0;
/** Offset of the source MAC address. */
export const ETH_SRC = 6;
/** Offset of the EtherType field. */
export const ETH_TYPE = 12;
/** Length of the Ethernet header. */
export const ETH_HLEN = 14;
/** EtherType of IPv4. */
export const ETH_P_IP = 0x0800;
/** EtherType of ARP. */
export const ETH_P_ARP = 0x0806;
/** EtherType of IPv6. */
export const ETH_P_IPV6 = 0x86dd;
/** The broadcast MAC address. */
export const BROADCAST_MAC = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
