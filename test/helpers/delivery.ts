/**
 * The end-to-end delivery check every agent test ends with: what the gateway committed
 * (its outbox's `stored` events, or a CLI's `--print-stored` lines) against what a county
 * subscriber received on a real broker. See scripts/county/delivery-checker.ts for the rules.
 */
import { expect } from 'vitest';
import type { Agent } from '../../agent/agent.js';
import { DeliveryChecker, type Verdict } from '../../scripts/county/delivery-checker.js';
import type { CountySubscriber } from '../../scripts/county-subscriber.js';
import type { AgentProcess } from './agent-process.js';

export class DeliveryCheck {
  readonly checker = new DeliveryChecker();
  private readonly processes: AgentProcess[] = [];

  /** Judges every copy `sub` receives from now on (start it before the agent). */
  constructor(sub: CountySubscriber) {
    sub.on('arrival', (ev) => this.checker.receive(ev));
  }

  /** Counts every event an in-process agent commits. */
  watch(agent: Agent): this {
    agent.outbox.on('stored', (events) => {
      for (const e of events) this.checker.committed(e.id, e.seq);
    });
    return this;
  }

  /** Counts every event a CLI agent (run with --print-stored) commits. */
  watchProcess(proc: AgentProcess): this {
    this.processes.push(proc);
    return this;
  }

  private collect(): void {
    for (const p of this.processes) for (const [id, seq] of p.stored) this.checker.committed(id, seq);
  }

  /** Waits until every committed event has arrived (or the time is up), then judges. */
  async settle(timeoutMs = 15_000): Promise<Verdict> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      this.collect();
      if (this.checker.undelivered().length === 0 || Date.now() > end) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.checker.verdict();
  }

  /** settle(), then fails the test with the checker's problems unless all is well. */
  async expectAllDelivered(timeoutMs?: number): Promise<Verdict> {
    const v = await this.settle(timeoutMs);
    expect(v.problems, 'delivery check').toEqual([]);
    return v;
  }
}
