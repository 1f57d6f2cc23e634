/**
 * Congestion control: the algorithm sets cwnd and ssthresh on each
 * ACK, on a loss detected by duplicate ACKs or SACK, and on a retransmission
 * timeout. Windows are in bytes.
 */
export interface CongestionControl {
  /** The algorithm's name, as Linux's TCP_CONGESTION ("reno", "cubic"). */
  readonly name: string;
  /** Congestion window in bytes. */
  cwnd: number;
  /** Slow start threshold in bytes. */
  ssthresh: number;
  /** New data was acknowledged outside recovery. `rttMs` is the latest sample or 0. */
  onAck(acked: number, mss: number, rttMs: number): void;
  /** A loss was detected by duplicate ACKs or SACK; sets ssthresh (and cwnd) for recovery. */
  onLoss(flight: number, mss: number): void;
  /** The retransmission timer fired. */
  onTimeout(flight: number, mss: number): void;
}

/** Initial window: 10 segments (RFC 6928). */
export function initialWindow(mss: number): number {
  return 10 * mss;
}

/** NewReno (RFC 5681, RFC 6582): slow start, then one MSS per RTT, halving on loss. */
export class NewReno implements CongestionControl {
  readonly name = "reno";
  cwnd: number;
  ssthresh = 0x7fffffff;

  constructor(mss: number) {
    this.cwnd = initialWindow(mss);
  }

  onAck(acked: number, mss: number): void {
    if (this.cwnd < this.ssthresh) this.cwnd += acked;
    else this.cwnd += Math.max(1, Math.floor((mss * acked) / this.cwnd));
  }

  onLoss(flight: number, mss: number): void {
    this.ssthresh = Math.max(Math.floor(flight / 2), 2 * mss);
    this.cwnd = this.ssthresh;
  }

  onTimeout(flight: number, mss: number): void {
    this.ssthresh = Math.max(Math.floor(flight / 2), 2 * mss);
    this.cwnd = mss;
  }
}

/**
 * CUBIC (RFC 9438): after a loss the window follows a cubic function of the
 * time since the loss, centred on the window where the loss happened, and
 * never grows slower than Reno would (the "Reno-friendly" region).
 */
export class Cubic implements CongestionControl {
  readonly name = "cubic";
  cwnd: number;
  ssthresh = 0x7fffffff;
  private static readonly C = 0.4;
  private static readonly BETA = 0.7;
  private wMax = 0;
  private k = 0;
  private epochStart = 0;
  private wEst = 0;
  private minRtt = 0;

  constructor(mss: number) {
    this.cwnd = initialWindow(mss);
  }

  onAck(acked: number, mss: number, rttMs: number): void {
    if (rttMs > 0 && (this.minRtt === 0 || rttMs < this.minRtt)) this.minRtt = rttMs;
    if (this.cwnd < this.ssthresh) {
      this.cwnd += acked;
      return;
    }
    const now = performance.now();
    if (this.epochStart === 0) {
      this.epochStart = now;
      if (this.wMax <= this.cwnd) {
        this.k = 0;
        this.wMax = this.cwnd;
      } else {
        this.k = Math.cbrt((this.wMax - this.cwnd) / mss / Cubic.C);
      }
      this.wEst = this.cwnd;
    }
    const t = (now - this.epochStart + this.minRtt) / 1000;
    const target = this.wMax + Cubic.C * (t - this.k) ** 3 * mss;
    // Reno-friendly estimate (RFC 9438 section 4.3).
    const alpha = (3 * (1 - Cubic.BETA)) / (1 + Cubic.BETA);
    this.wEst += (alpha * mss * acked) / this.cwnd;
    let next = this.cwnd;
    if (target > this.cwnd) next = this.cwnd + Math.min(acked, ((target - this.cwnd) * acked) / this.cwnd);
    else next = this.cwnd + (mss * acked) / (100 * this.cwnd);
    this.cwnd = Math.max(next, this.wEst);
  }

  onLoss(flight: number, mss: number): void {
    this.epochStart = 0;
    const w = Math.max(this.cwnd, flight);
    this.wMax = w;
    this.ssthresh = Math.max(Math.floor(w * Cubic.BETA), 2 * mss);
    this.cwnd = this.ssthresh;
  }

  onTimeout(flight: number, mss: number): void {
    this.onLoss(flight, mss);
    this.cwnd = mss;
  }
}

/** Creates a congestion control by name ("cubic" or "reno"). */
export function createCongestionControl(name: string, mss: number): CongestionControl {
  return name === "reno" ? new NewReno(mss) : new Cubic(mss);
}
