/**
 * The end-to-end delivery check every agent test ends with: what the gateway committed
 * (its outbox's `stored` events, or a CLI's `--print-stored` lines) against what a county
 * subscriber received on a real broker. See scripts/county/delivery-checker.ts for the rules.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { Agent } from '../../agent/agent.js';
import { DeliveryChecker, type Verdict } from '../../scripts/county/delivery-checker.js';
import { CountySubscriber } from '../../scripts/county-subscriber.js';
import type { AgentChild } from './agent-child.js';

/** How long arrivals must have stopped before a verdict that relies on shedding is final. */
const QUIET_MS = 500;

export class DeliveryCheck {
  readonly checker = new DeliveryChecker();
  private readonly processes: AgentChild[] = [];
  private lastArrivalMs = Date.now();

  /** Judges every copy `sub` receives from now on (start it before the agent). */
  constructor(sub?: CountySubscriber) {
    if (sub) this.attach(sub);
  }

  /** Judges every copy `sub` receives from now on: for a county that can only listen once the agent runs. */
  attach(sub: CountySubscriber): this {
    sub.on('arrival', (ev) => {
      this.lastArrivalMs = Date.now();
      this.checker.receive(ev);
    });
    sub.on('media', (gatewayId, pictureId, payload) => {
      this.lastArrivalMs = Date.now();
      this.checker.chunk(gatewayId, pictureId, payload);
    });
    return this;
  }

  /** Counts every event an in-process agent commits. Call before `agent.start()` (and before any `emit`). */
  watch(agent: Agent): this {
    agent.observe.onStored((events) => {
      for (const e of events) this.checker.committed(e.id, e.seq, { gatewayId: e.gatewayId, priority: e.priority });
    });
    return this;
  }

  /** Counts every event a CLI agent (run with --print-stored) commits. */
  watchProcess(proc: AgentChild): this {
    this.processes.push(proc);
    return this;
  }

  private collect(): void {
    for (const p of this.processes) for (const [id, seq] of p.stored) this.checker.committed(id, seq);
  }

  /**
   * Waits until the verdict is final, or the time is up, then judges. Final: every committed
   * event arrived and nothing is wrong; or nothing is wrong because shedding accounts for what
   * did not arrive and arrivals have stopped (so a late copy cannot still change it). A verdict
   * with problems is re-judged until the time is up: a gap may still be filled by a copy in flight.
   */
  async settle(timeoutMs = 15_000): Promise<Verdict> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      this.collect();
      const v = this.checker.verdict();
      if (v.ok && (v.undelivered.length === 0 || Date.now() - this.lastArrivalMs >= QUIET_MS)) return v;
      if (Date.now() > end) return v;
      await new Promise((r) => setTimeout(r, 20)); // the polling step
    }
  }

  /** settle(), then fails the test with the checker's problems unless all is well. */
  /** Whether expectAllDelivered has run (an end-of-test judgement then has nothing to add). */
  judged = false;

  async expectAllDelivered(timeoutMs?: number): Promise<Verdict> {
    this.judged = true;
    const v = await this.settle(timeoutMs);
    expect(v.problems, 'delivery check').toEqual([]);
    expect(v.distinct, 'events judged by the delivery check').toBeGreaterThan(0); // a check of nothing proves nothing
    return v;
  }
}

/**
 * Starts `agent` with a county subscriber on `url` checking everything it commits, judged when
 * the test ends, before the agent stops (cleanups run last-first). For tests whose subject is
 * something else (a driver), so that they too prove the whole path. A test that stops the
 * agent itself calls `check.expectAllDelivered()` before it does.
 */
export async function startChecked(
  agent: Agent,
  url: string,
  cleanup: (fn: () => unknown) => void,
): Promise<DeliveryCheck> {
  const check = new DeliveryCheck(await startCounty(url, cleanup)).watch(agent);
  await agent.start();
  cleanup(() => agent.stop());
  cleanup(() => (check.judged ? undefined : check.expectAllDelivered()));
  return check;
}

/** A county subscriber on the broker at `url` (a fresh client id unless given); `cleanup` stops it. */
export async function startCounty(
  url: string,
  cleanup: (fn: () => unknown) => void,
  clientId = `county-${randomUUID().slice(0, 8)}`,
): Promise<CountySubscriber> {
  const county = await new CountySubscriber({ url, clientId }).start();
  cleanup(() => county.stop());
  return county;
}
