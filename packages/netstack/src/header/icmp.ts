/** ICMPv4 (RFC 792) and ICMPv6 (RFC 4443, RFC 4861) message layout. */

/** Offset of the type byte. */
export const ICMP_TYPE = 0;
/** Offset of the code byte. */
export const ICMP_CODE = 1;
/** Offset of the checksum. */
export const ICMP_CHECKSUM = 2;
/** Offset of the echo identifier. */
export const ICMP_ECHO_ID = 4;
/** Offset of the echo sequence number. */
export const ICMP_ECHO_SEQ = 6;
/** Length of the ICMP header (type, code, checksum, 4 bytes of rest). */
export const ICMP_HLEN = 8;

/** ICMPv4 echo reply. */
export const ICMP_ECHOREPLY = 0;
/** ICMPv4 destination unreachable. */
export const ICMP_DEST_UNREACH = 3;
/** ICMPv4 echo request. */
export const ICMP_ECHO = 8;
/** ICMPv4 time exceeded. */
export const ICMP_TIME_EXCEEDED = 11;
/** ICMPv4 parameter problem. */
export const ICMP_PARAMETERPROB = 12;
/** Destination unreachable code: network unreachable. */
export const ICMP_NET_UNREACH = 0;
/** Destination unreachable code: host unreachable. */
export const ICMP_HOST_UNREACH = 1;
/** Destination unreachable code: protocol unreachable. */
export const ICMP_PROT_UNREACH = 2;
/** Destination unreachable code: port unreachable. */
export const ICMP_PORT_UNREACH = 3;
/** Destination unreachable code: fragmentation needed and DF set. */
export const ICMP_FRAG_NEEDED = 4;
/** Time exceeded code: TTL exceeded in transit. */
export const ICMP_EXC_TTL = 0;
/** Time exceeded code: fragment reassembly time exceeded. */
export const ICMP_EXC_FRAGTIME = 1;

/** ICMPv6 destination unreachable. */
export const ICMPV6_DEST_UNREACH = 1;
/** ICMPv6 packet too big. */
export const ICMPV6_PKT_TOOBIG = 2;
/** ICMPv6 time exceeded. */
export const ICMPV6_TIME_EXCEED = 3;
/** ICMPv6 parameter problem. */
export const ICMPV6_PARAMPROB = 4;
/** ICMPv6 echo request. */
export const ICMPV6_ECHO_REQUEST = 128;
/** ICMPv6 echo reply. */
export const ICMPV6_ECHO_REPLY = 129;
/** NDP router solicitation. */
export const NDISC_ROUTER_SOLICITATION = 133;
/** NDP router advertisement. */
export const NDISC_ROUTER_ADVERTISEMENT = 134;
/** NDP neighbour solicitation. */
export const NDISC_NEIGHBOUR_SOLICITATION = 135;
/** NDP neighbour advertisement. */
export const NDISC_NEIGHBOUR_ADVERTISEMENT = 136;
/** ICMPv6 destination unreachable code: no route. */
export const ICMPV6_NOROUTE = 0;
/** ICMPv6 destination unreachable code: address unreachable. */
export const ICMPV6_ADDR_UNREACH = 3;
/** ICMPv6 destination unreachable code: port unreachable. */
export const ICMPV6_PORT_UNREACH = 4;
/** ICMPv6 time exceeded code: hop limit exceeded. */
export const ICMPV6_EXC_HOPLIMIT = 0;
/** ICMPv6 time exceeded code: fragment reassembly time exceeded. */
export const ICMPV6_EXC_FRAGTIME = 1;
/** ICMPv6 parameter problem code: erroneous header field. */
export const ICMPV6_HDR_FIELD = 0;
/** ICMPv6 parameter problem code: unrecognized next header. */
export const ICMPV6_UNK_NEXTHDR = 1;
/** ICMPv6 parameter problem code: unrecognized option. */
export const ICMPV6_UNK_OPTION = 2;

/** Offset of the target address in a neighbour solicitation or advertisement. */
export const NDISC_TARGET = 8;
/** Offset of the first option in a neighbour solicitation or advertisement. */
export const NDISC_OPTIONS = 24;
/** Neighbour advertisement flag: router. */
export const NDISC_FLAG_ROUTER = 0x80;
/** Neighbour advertisement flag: solicited. */
export const NDISC_FLAG_SOLICITED = 0x40;
/** Neighbour advertisement flag: override. */
export const NDISC_FLAG_OVERRIDE = 0x20;
/** NDP option: source link-layer address. */
export const ND_OPT_SOURCE_LL_ADDR = 1;
/** NDP option: target link-layer address. */
export const ND_OPT_TARGET_LL_ADDR = 2;
