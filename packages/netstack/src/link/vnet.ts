/**
 * struct virtio_net_hdr (include/uapi/linux/virtio_net.h), the 10-byte prefix
 * of every frame on a TAP device with IFF_VNET_HDR and on an AF_PACKET
 * socket with PACKET_VNET_HDR. Fields are little-endian on x86.
 */

/** Size of the header without num_buffers. */
export const VNET_HDR_LEN = 10;
/** Offset of the flags byte. */
export const VNET_FLAGS = 0;
/** Offset of the GSO type byte. */
export const VNET_GSO_TYPE = 1;
/** Offset of hdr_len (u16). */
export const VNET_HDR_LEN_FIELD = 2;
/** Offset of gso_size (u16). */
export const VNET_GSO_SIZE = 4;
/** Offset of csum_start (u16). */
export const VNET_CSUM_START = 6;
/** Offset of csum_offset (u16). */
export const VNET_CSUM_OFFSET = 8;
/** Flag: the checksum is partial and must be completed from csum_start. */
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
/** Flag: the checksum was validated. */
export const VIRTIO_NET_HDR_F_DATA_VALID = 2;

/** Writes a little-endian u16. */
export function putLE16(b: Uint8Array, off: number, v: number): void {
  b[off] = v;
  b[off + 1] = v >>> 8;
}
