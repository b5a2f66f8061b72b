/** The supervisor's timers for one child's life (its start limit, restart wait, heartbeat): all cleared at once when it ends. */
export class ChildTimers {
  private readonly pending = new Set<NodeJS.Timeout>();
  private interval: NodeJS.Timeout | null = null;

  after(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.pending.delete(t);
      fn();
    }, ms);
    this.pending.add(t);
  }

  /** One repeating timer at a time (the heartbeat). */
  every(fn: () => void, ms: number): void {
    if (this.interval) clearInterval(this.interval);
    this.interval = setInterval(fn, ms);
  }

  clear(): void {
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
    if (this.interval) clearInterval(this.interval);
    this.interval = null;
  }
}
