/**
 * The retransmission timeout of RFC 6298: a smoothed RTT and its variance,
 * RTO = SRTT + 4 * RTTVAR, kept between `minRto` (200 ms, Linux's
 * TCP_RTO_MIN, not RFC 6298's 1 s) and `maxRto` (120 s, TCP_RTO_MAX), and
 * doubled on each timeout until a new sample arrives.
 */
export class RttEstimator {
  /** Smoothed RTT in ms, 0 before the first sample. */
  srtt = 0;
  /** RTT variance in ms. */
  rttvar = 0;
  /** Current RTO in ms, including backoff. */
  rto: number;
  /** Number of consecutive doublings. */
  backoff = 0;

  constructor(readonly minRto = 200, readonly maxRto = 120_000, initialRto = 1000) {
    this.rto = initialRto;
  }

  /** Adds an RTT sample in ms and resets the backoff. */
  sample(rtt: number): void {
    rtt = Math.max(rtt, 0.01);
    if (this.srtt === 0) {
      this.srtt = rtt;
      this.rttvar = rtt / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - rtt);
      this.srtt = 0.875 * this.srtt + 0.125 * rtt;
    }
    this.backoff = 0;
    this.rto = Math.min(this.maxRto, Math.max(this.minRto, this.srtt + Math.max(1, 4 * this.rttvar)));
  }

  /** Doubles the RTO after a timeout. */
  backOff(): void {
    this.backoff++;
    this.rto = Math.min(this.maxRto, this.rto * 2);
  }
}
