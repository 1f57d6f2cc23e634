import type { RxPacket } from "../stack/RxPacket";
import { TcpOptions } from "./options";

/** A received TCP segment, decoded once. Reused for every segment: copy what you keep. */
export class Segment {
  /** The packet it came in. */
  pkt!: RxPacket;
  /** Buffer of the packet (borrowed). */
  buf: Uint8Array = new Uint8Array(0);
  /** Offset of the TCP header. */
  off = 0;
  /** Offset of the payload. */
  dataOff = 0;
  /** Payload length. */
  dataLen = 0;
  /** Sequence number. */
  seq = 0;
  /** Acknowledgment number. */
  ack = 0;
  /** TH_* flags. */
  flags = 0;
  /** Raw window field. */
  window = 0;
  /** Source port. */
  srcPort = 0;
  /** Destination port. */
  dstPort = 0;
  /** Parsed options. */
  readonly options = new TcpOptions();

  /** Sequence space the segment occupies: payload plus SYN and FIN. */
  get seqLen(): number {
    return this.dataLen + (this.flags & 0x02 ? 1 : 0) + (this.flags & 0x01 ? 1 : 0);
  }
}
