/**
 * At most a few password checks at once (editor-front.ts). Why: a bcrypt compare (10 rounds)
 * is ~70 ms of one core on a Pi 4 and cannot be interrupted; a burst of concurrent logins,
 * each from a different client so that no per-client limit applies, pinned both cores and
 * starved the agent's own work. A few more wait their turn; the rest are refused at once
 * (the front answers 429) rather than queued without bound.
 */
export class PasswordGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly maxRunning: number,
    readonly maxWaiting: number,
  ) {}

  /** `check`'s result once a slot was free, or null at once when too many already wait. */
  async run<T>(check: () => Promise<T>): Promise<T | null> {
    if (this.running < this.maxRunning) this.running += 1;
    else if (this.waiting.length < this.maxWaiting) await new Promise<void>((r) => this.waiting.push(r));
    else return null;
    try {
      return await check();
    } finally {
      // The slot passes straight to the next in line (the count stays), or is freed.
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}
