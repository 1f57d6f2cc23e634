/** ARP packet layout for Ethernet and IPv4 (RFC 826), offsets from the ARP header. */

/** Offset of the hardware type field (1 for Ethernet). */
export const ARP_HTYPE = 0;
/** Offset of the protocol type field (0x0800 for IPv4). */
export const ARP_PTYPE = 2;
/** Offset of the hardware address length (6). */
export const ARP_HLEN = 4;
/** Offset of the protocol address length (4). */
export const ARP_PLEN = 5;
/** Offset of the operation field. */
export const ARP_OPER = 6;
/** Offset of the sender hardware address. */
export const ARP_SHA = 8;
/** Offset of the sender protocol address. */
export const ARP_SPA = 14;
/** Offset of the target hardware address. */
export const ARP_THA = 18;
/** Offset of the target protocol address. */
export const ARP_TPA = 24;
/** Length of an Ethernet/IPv4 ARP packet. */
export const ARP_SIZE = 28;
/** ARP request operation. */
export const ARPOP_REQUEST = 1;
/** ARP reply operation. */
export const ARPOP_REPLY = 2;
