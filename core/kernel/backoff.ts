/**
 * Exponential backoff with jitter. Jitter spreads a county's gateways out after a shared
 * outage (a cell tower back up) so they do not all reconnect in the same second.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly jitter: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt; each call doubles the base, up to maxMs. */
  next(): number {
    const base = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    const spread = base * this.jitter;
    return Math.max(this.minMs, Math.round(base - spread + this.random() * spread));
  }

  reset(): void {
    this.attempt = 0;
  }
}
