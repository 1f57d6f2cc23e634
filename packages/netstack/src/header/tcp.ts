/** TCP header layout (RFC 9293) and option kinds. */

/** Offset of the source port. */
export const TCP_SRC_PORT = 0;
/** Offset of the destination port. */
export const TCP_DST_PORT = 2;
/** Offset of the sequence number. */
export const TCP_SEQ = 4;
/** Offset of the acknowledgment number. */
export const TCP_ACK = 8;
/** Offset of the data offset byte (high nibble, in 32-bit words). */
export const TCP_DATA_OFFSET = 12;
/** Offset of the flags byte. */
export const TCP_FLAGS = 13;
/** Offset of the window field. */
export const TCP_WINDOW = 14;
/** Offset of the checksum. */
export const TCP_CHECKSUM = 16;
/** Offset of the urgent pointer. */
export const TCP_URGENT = 18;
/** Length of a header without options. */
export const TCP_MIN_HLEN = 20;
/** Length of a header with the maximum 40 bytes of options. */
export const TCP_MAX_HLEN = 60;

/** FIN flag. */
export const TH_FIN = 0x01;
/** SYN flag. */
export const TH_SYN = 0x02;
/** RST flag. */
export const TH_RST = 0x04;
/** PSH flag. */
export const TH_PSH = 0x08;
/** ACK flag. */
export const TH_ACK = 0x10;
/** URG flag. */
export const TH_URG = 0x20;

/** Option kind: end of option list. */
export const TCPOPT_EOL = 0;
/** Option kind: no-operation. */
export const TCPOPT_NOP = 1;
/** Option kind: maximum segment size. */
export const TCPOPT_MSS = 2;
/** Option kind: window scale. */
export const TCPOPT_WINDOW = 3;
/** Option kind: SACK permitted. */
export const TCPOPT_SACK_PERMITTED = 4;
/** Option kind: SACK blocks. */
export const TCPOPT_SACK = 5;
/** Option kind: timestamps. */
export const TCPOPT_TIMESTAMP = 8;
