/**
 * The boundary between the stack and a device. Frames are Ethernet II frames
 * on every endpoint, including loopback.
 */

/** Capability: the endpoint loops frames back to the same stack (no neighbour resolution). */
export const CAP_LOOPBACK = 1;
/** Capability: the endpoint accepts frames whose transport checksum is left partial (TxOffload). */
export const CAP_TX_CHECKSUM_OFFLOAD = 2;
/** Capability: the endpoint accepts TCP segments larger than the MTU and segments them (TSO). */
export const CAP_GSO = 4;

/** Receive flag: the transport checksum of the frame is known to be good or is partial from a trusted sender. */
export const RX_CHECKSUM_VALID = 1;

/** GSO type: none. */
export const GSO_NONE = 0;
/** GSO type: TCP over IPv4. */
export const GSO_TCPV4 = 1;
/** GSO type: TCP over IPv6. */
export const GSO_TCPV6 = 4;

/**
 * Offload work left for the device on an outgoing frame: completing a partial
 * checksum, and with GSO cutting a large TCP segment into `gsoSize` pieces.
 * Offsets are from the start of the frame.
 */
export interface TxOffload {
  /** Offset where checksumming starts (the transport header). */
  csumStart: number;
  /** Offset of the checksum field, relative to `csumStart`. */
  csumOffset: number;
  /** One of GSO_NONE, GSO_TCPV4, GSO_TCPV6. */
  gsoType: number;
  /** Payload bytes per segment when `gsoType` is not GSO_NONE. */
  gsoSize: number;
  /** Length of all headers up to and including the transport header. */
  hdrLen: number;
}

/** The stack side of an endpoint: where received frames go. */
export interface NetworkDispatcher {
  /**
   * Handles one received frame, `buf[off..off+len)`. The frame is borrowed:
   * the stack copies whatever it keeps before returning, so the endpoint may
   * reuse the buffer at once.
   */
  deliverFrame(buf: Uint8Array, off: number, len: number, rxFlags: number): void;
  /** Called after a batch of frames, so the stack can flush ACKs and output once per batch. */
  endBatch(): void;
}

/** A device that sends and receives Ethernet frames for one NIC of a stack. */
export interface LinkEndpoint {
  /** Largest IP packet the link carries, without the Ethernet header. */
  readonly mtu: number;
  /** The endpoint's 6-byte MAC address. */
  readonly linkAddress: Uint8Array;
  /** Bit set of CAP_* values. */
  readonly capabilities: number;
  /** Largest TCP segment (headers included) accepted with GSO, or 0. */
  readonly gsoMaxSize: number;
  /** Connects the endpoint to a stack, or disconnects it with null. */
  attach(dispatcher: NetworkDispatcher | null): void;
  /**
   * Sends the frame `buf[off..off+len)`. At least 16 bytes before `off` are
   * free for the endpoint's own headers. The endpoint takes ownership of
   * `buf`: it may hold it and gives it back to the pool when done.
   */
  writeFrame(buf: Uint8Array, off: number, len: number, offload: TxOffload | null): void;
  /** Stops the endpoint and frees its resources. Idempotent. */
  close(): void;
}

/** Returns a locally administered unicast MAC address, random unless `seed` is given. */
export function randomMac(seed?: number): Uint8Array {
  const mac = new Uint8Array(6);
  if (seed === undefined) {
    for (let i = 0; i < 6; i++) mac[i] = Math.floor(Math.random() * 256);
  } else {
    mac[2] = seed >>> 24;
    mac[3] = seed >>> 16;
    mac[4] = seed >>> 8;
    mac[5] = seed;
  }
  mac[0] = (mac[0] & 0xfe) | 0x02;
  return mac;
}
