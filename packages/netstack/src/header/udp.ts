/** UDP header layout (RFC 768). */

/** Offset of the source port. */
export const UDP_SRC_PORT = 0;
/** Offset of the destination port. */
export const UDP_DST_PORT = 2;
/** Offset of the length field (header plus payload). */
export const UDP_LENGTH = 4;
/** Offset of the checksum. */
export const UDP_CHECKSUM = 6;
/** Length of the UDP header. */
export const UDP_HLEN = 8;
