/** IPv4 header layout (RFC 791), offsets from the start of the IP header. */

/** Offset of the version and IHL byte. */
export const IP_VERSION_IHL = 0;
/** Offset of the type-of-service byte. */
export const IP_TOS = 1;
/** Offset of the total length field. */
export const IP_TOTAL_LENGTH = 2;
/** Offset of the identification field. */
export const IP_ID = 4;
/** Offset of the flags and fragment offset field. */
export const IP_FRAG = 6;
/** Offset of the time-to-live byte. */
export const IP_TTL = 8;
/** Offset of the protocol byte. */
export const IP_PROTOCOL = 9;
/** Offset of the header checksum. */
export const IP_CHECKSUM = 10;
/** Offset of the source address. */
export const IP_SRC = 12;
/** Offset of the destination address. */
export const IP_DST = 16;
/** Length of a header without options. */
export const IPV4_MIN_HLEN = 20;
/** Largest IPv4 packet. */
export const IPV4_MAX_TOTAL = 65535;
/** The "don't fragment" flag in the fragment field. */
export const IP_DF = 0x4000;
/** The "more fragments" flag in the fragment field. */
export const IP_MF = 0x2000;
/** Mask of the fragment offset, in 8-byte units. */
export const IP_OFFMASK = 0x1fff;
/** Default TTL, as Linux's net.ipv4.ip_default_ttl. */
export const IP_DEFAULT_TTL = 64;

/** IP protocol number of ICMP. */
export const IPPROTO_ICMP = 1;
/** IP protocol number of TCP. */
export const IPPROTO_TCP = 6;
/** IP protocol number of UDP. */
export const IPPROTO_UDP = 17;
/** IP protocol number of ICMPv6. */
export const IPPROTO_ICMPV6 = 58;
