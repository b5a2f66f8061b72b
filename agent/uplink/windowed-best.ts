/**
 * The best (max or min) value seen over the last `windowMs`, kept as one value per second, so
 * a fast link acknowledging thousands of messages a second costs a few numbers, not thousands.
 */
export class WindowedBest {
  private readonly buckets: { second: number; value: number }[] = [];

  constructor(
    private readonly windowMs: number,
    private readonly better: (a: number, b: number) => number,
  ) {}

  add(nowMs: number, value: number): void {
    const second = Math.floor(nowMs / 1000);
    const last = this.buckets[this.buckets.length - 1];
    if (last && last.second === second) last.value = this.better(last.value, value);
    else this.buckets.push({ second, value });
  }

  best(nowMs: number): number | null {
    const oldest = Math.floor((nowMs - this.windowMs) / 1000);
    while (this.buckets.length > 0 && this.buckets[0]!.second < oldest) this.buckets.shift();
    let best: number | null = null;
    for (const b of this.buckets) best = best === null ? b.value : this.better(best, b.value);
    return best;
  }
}
