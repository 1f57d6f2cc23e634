import { get16, get32, put16, put32 } from "../bytes";
import { TCPOPT_EOL, TCPOPT_MSS, TCPOPT_NOP, TCPOPT_SACK, TCPOPT_SACK_PERMITTED, TCPOPT_TIMESTAMP, TCPOPT_WINDOW } from "../header/tcp";

/** The options of one received segment. One object is reused for every segment. */
export class TcpOptions {
  /** MSS option value, or 0 if absent. */
  mss = 0;
  /** Window scale shift, or -1 if absent. */
  wscale = -1;
  /** SACK-permitted option present. */
  sackPermitted = false;
  /** Timestamps option present. */
  hasTimestamp = false;
  /** TSval. */
  tsVal = 0;
  /** TSecr. */
  tsEcr = 0;
  /** SACK blocks as start, end pairs; `sackCount` of them are valid. */
  readonly sack = new Uint32Array(8);
  /** Number of valid SACK blocks. */
  sackCount = 0;
  /** Known options with a wrong length, ignored as Linux does. */
  badLength = 0;

  /**
   * Parses the option list `buf[off..end)`. Returns false if the list is
   * malformed (an option runs past the header or has a length under 2); the
   * segment is then dropped.
   */
  parse(buf: Uint8Array, off: number, end: number, syn: boolean): boolean {
    this.mss = 0;
    this.wscale = -1;
    this.sackPermitted = false;
    this.hasTimestamp = false;
    this.sackCount = 0;
    this.badLength = 0;
    let at = off;
    while (at < end) {
      const kind = buf[at];
      if (kind === TCPOPT_EOL) break;
      if (kind === TCPOPT_NOP) {
        at++;
        continue;
      }
      if (at + 1 >= end) return false;
      const len = buf[at + 1];
      if (len < 2 || at + len > end) return false;
      switch (kind) {
        case TCPOPT_MSS:
          if (len !== 4) this.badLength++;
          else if (syn) this.mss = get16(buf, at + 2);
          break;
        case TCPOPT_WINDOW:
          if (len !== 3) this.badLength++;
          else if (syn) this.wscale = Math.min(buf[at + 2], 14);
          break;
        case TCPOPT_SACK_PERMITTED:
          if (len !== 2) this.badLength++;
          else if (syn) this.sackPermitted = true;
          break;
        case TCPOPT_TIMESTAMP:
          if (len !== 10) this.badLength++;
          else {
            this.hasTimestamp = true;
            this.tsVal = get32(buf, at + 2);
            this.tsEcr = get32(buf, at + 6);
          }
          break;
        case TCPOPT_SACK:
          if (len < 10 || (len - 2) % 8 !== 0) this.badLength++;
          else if (!syn) {
            const n = Math.min(4, (len - 2) >>> 3);
            for (let i = 0; i < n; i++) {
              this.sack[i * 2] = get32(buf, at + 2 + i * 8);
              this.sack[i * 2 + 1] = get32(buf, at + 6 + i * 8);
            }
            this.sackCount = n;
          }
          break;
        default:
          break;
      }
      at += len;
    }
    return true;
  }
}

/** Option values to write into an outgoing segment. */
export interface OutgoingOptions {
  /** MSS to announce (SYN only), or 0. */
  mss: number;
  /** Window scale shift to announce (SYN only), or -1. */
  wscale: number;
  /** Announce SACK-permitted (SYN only). */
  sackPermitted: boolean;
  /** Include timestamps. */
  timestamp: boolean;
  /** TSval. */
  tsVal: number;
  /** TSecr. */
  tsEcr: number;
  /** SACK blocks as start, end pairs. */
  sack: number[];
}

/** Length in bytes (a multiple of 4) of the options `o` will produce. */
export function optionsLength(o: OutgoingOptions): number {
  let n = 0;
  if (o.mss !== 0) n += 4;
  if (o.wscale >= 0) n += 4;
  if (o.sackPermitted && !o.timestamp) n += 4;
  if (o.timestamp) n += 12;
  if (o.sack.length > 0) n += 4 + o.sack.length * 4;
  return n;
}

/** Writes the options at `off`; returns the bytes written (`optionsLength(o)`). */
export function writeOptions(buf: Uint8Array, off: number, o: OutgoingOptions): number {
  let at = off;
  if (o.mss !== 0) {
    buf[at] = TCPOPT_MSS;
    buf[at + 1] = 4;
    put16(buf, at + 2, o.mss);
    at += 4;
  }
  if (o.timestamp) {
    if (o.sackPermitted) {
      buf[at] = TCPOPT_SACK_PERMITTED;
      buf[at + 1] = 2;
    } else {
      buf[at] = TCPOPT_NOP;
      buf[at + 1] = TCPOPT_NOP;
    }
    buf[at + 2] = TCPOPT_TIMESTAMP;
    buf[at + 3] = 10;
    put32(buf, at + 4, o.tsVal);
    put32(buf, at + 8, o.tsEcr);
    at += 12;
  } else if (o.sackPermitted) {
    buf[at] = TCPOPT_NOP;
    buf[at + 1] = TCPOPT_NOP;
    buf[at + 2] = TCPOPT_SACK_PERMITTED;
    buf[at + 3] = 2;
    at += 4;
  }
  if (o.wscale >= 0) {
    buf[at] = TCPOPT_NOP;
    buf[at + 1] = TCPOPT_WINDOW;
    buf[at + 2] = 3;
    buf[at + 3] = o.wscale;
    at += 4;
  }
  if (o.sack.length > 0) {
    buf[at] = TCPOPT_NOP;
    buf[at + 1] = TCPOPT_NOP;
    buf[at + 2] = TCPOPT_SACK;
    buf[at + 3] = 2 + o.sack.length * 4;
    at += 4;
    for (let i = 0; i < o.sack.length; i++, at += 4) put32(buf, at, o.sack[i]);
  }
  return at - off;
}
