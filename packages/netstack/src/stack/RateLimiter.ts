/** A token bucket: `rate` tokens per second, at most `burst` saved up. */
export class RateLimiter {
  private tokens: number;
  private last = performance.now();

  constructor(private readonly rate: number, private readonly burst: number) {
    this.tokens = burst;
  }

  /** Takes one token; returns false if none is left. */
  take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
