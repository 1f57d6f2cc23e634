import { createHash, randomBytes } from "node:crypto";

/** MSS values a SYN cookie can encode (3 bits), as Linux's msstab in spirit: common path MTUs. */
const MSS_TABLE = [536, 1220, 1360, 1440, 1452, 1460, 8960, 65483];

function hash32(secret: Buffer, text: string): number {
  const h = createHash("sha256").update(secret).update(text).digest();
  return h.readUInt32BE(0);
}

/**
 * Initial sequence numbers (RFC 6528: a keyed hash of the connection plus a
 * clock ticking every 4 us) and SYN cookies. A cookie is the ISN of a
 * SYN-ACK sent without keeping state: 5 bits of time (64 s units), 3 bits of
 * MSS index and 24 bits of keyed hash over the connection, the time, the
 * index and the client's ISN. Options other than MSS are lost in cookie mode.
 */
export class SynCookies {
  private readonly secret = randomBytes(16);
  private readonly cookieSecret = randomBytes(16);

  /** Returns the ISN for a new connection. */
  isn(tuple: string): number {
    const clock = Math.floor(performance.now() * 250) >>> 0;
    return (hash32(this.secret, tuple) + clock) >>> 0;
  }

  /**
   * Returns the timestamp offset for a pair of hosts. It depends on the
   * addresses only, as on Linux, so that a new connection between the same
   * hosts continues the clock of the last one (needed to reopen TIME_WAIT).
   */
  tsOffset(local: string, remote: string): number {
    return hash32(this.secret, `ts|${local}|${remote}`);
  }

  /** Returns the cookie ISN for a SYN with `clientIsn` and `mss`, and the MSS it encodes. */
  make(tuple: string, clientIsn: number, mss: number): { isn: number; mss: number } {
    let idx = 0;
    for (let i = MSS_TABLE.length - 1; i >= 0; i--) {
      if (MSS_TABLE[i] <= mss) {
        idx = i;
        break;
      }
    }
    const t = Math.floor(Date.now() / 64_000) & 31;
    const h = hash32(this.cookieSecret, `${tuple}|${t}|${idx}|${clientIsn}`) & 0xffffff;
    return { isn: ((t << 27) | (idx << 24) | h) >>> 0, mss: MSS_TABLE[idx] };
  }

  /** Checks the cookie echoed in an ACK (ack - 1); returns the encoded MSS, or 0 if invalid or older than two periods. */
  check(tuple: string, clientIsn: number, cookie: number): number {
    const t = cookie >>> 27;
    const idx = (cookie >>> 24) & 7;
    const now = Math.floor(Date.now() / 64_000) & 31;
    if (((now - t) & 31) > 1) return 0;
    const h = hash32(this.cookieSecret, `${tuple}|${t}|${idx}|${clientIsn}`) & 0xffffff;
    return h === (cookie & 0xffffff) ? MSS_TABLE[idx] : 0;
  }
}
