/** IPv6 header layout (RFC 8200), offsets from the start of the IP header. */

/** Offset of the version, traffic class and flow label word. */
export const IP6_VTF = 0;
/** Offset of the payload length field. */
export const IP6_PAYLOAD_LENGTH = 4;
/** Offset of the next header byte. */
export const IP6_NEXT_HEADER = 6;
/** Offset of the hop limit byte. */
export const IP6_HOP_LIMIT = 7;
/** Offset of the source address. */
export const IP6_SRC = 8;
/** Offset of the destination address. */
export const IP6_DST = 24;
/** Length of the fixed header. */
export const IPV6_HLEN = 40;
/** Smallest MTU every IPv6 link has. */
export const IPV6_MIN_MTU = 1280;

/** Next header value of the hop-by-hop options header. */
export const NEXTHDR_HOP = 0;
/** Next header value of the routing header. */
export const NEXTHDR_ROUTING = 43;
/** Next header value of the fragment header. */
export const NEXTHDR_FRAGMENT = 44;
/** Next header value of ESP. */
export const NEXTHDR_ESP = 50;
/** Next header value of AH. */
export const NEXTHDR_AUTH = 51;
/** Next header value meaning "no next header". */
export const NEXTHDR_NONE = 59;
/** Next header value of the destination options header. */
export const NEXTHDR_DEST = 60;

/** Length of the fragment extension header. */
export const FRAG6_HLEN = 8;
