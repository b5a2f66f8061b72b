/** Paces replay so a reconnect after a long outage is a steady stream, not a storm on a weak link. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  /** ratePerSec 0 = unlimited. */
  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Takes a token if one is there; otherwise returns the ms until one will be. */
  take(): number {
    if (this.ratePerSec === 0) return 0;
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.ratePerSec);
    this.last = t;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) / this.ratePerSec) * 1000);
  }

  /** For traffic that must not wait (critical events): it still counts against the rate. */
  force(): void {
    if (this.ratePerSec > 0) this.tokens -= 1;
  }
}
