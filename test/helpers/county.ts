/**
 * The county side of a fault test: a subscriber judged by the delivery checker, and an
 * operator who acknowledges every alert as it arrives ("help is coming"). The operator uses
 * its own client: command replies are not events, and the checker must not see them. Like a
 * real county application it re-sends an acknowledgement that got no reply (the gateway may
 * have been down, or the reply lost to a broker restart), until a reply says how it went.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { CountySubscriber } from '../../scripts/county-subscriber.js';
import type { CheckedEvent } from '../../scripts/county/checked-event.js';
import type { AgentChild, Ending } from './agent-child.js';
import type { Verdict } from '../../scripts/county/delivery-checker.js';
import { DeliveryCheck } from './delivery.js';

const RESEND_MS = 2000;

export type AckOutcome = 'acknowledged' | 'already' | string; // else the error code

export class County {
  readonly check: DeliveryCheck;
  /** alertId -> the reply's outcome (absent: no reply yet). */
  readonly acks = new Map<string, AckOutcome>();
  private readonly pending = new Map<string, string>(); // alertId -> gatewayId
  private operator: MqttClient | null = null;
  private timer: NodeJS.Timeout | null = null;

  private constructor(readonly sub: CountySubscriber) {
    this.check = new DeliveryCheck(sub);
  }

  static async start(url: string, name: string, ackAlerts = true): Promise<County> {
    const sub = await new CountySubscriber({ url, clientId: `county-${name}` }).start();
    const county = new County(sub);
    if (ackAlerts) await county.startOperator(url, name);
    return county;
  }

  private async startOperator(url: string, name: string): Promise<void> {
    const op = await mqtt.connectAsync(url, { clientId: `operator-${name}`, clean: true, reconnectPeriod: 300 });
    op.on('error', () => {}); // broker restarts are part of the tests; mqtt.js reconnects and resubscribes
    this.operator = op;
    op.on('message', (topic, payload) => {
      if (!topic.endsWith('/cmd-reply/ack')) return;
      const reply = JSON.parse(payload.toString()) as {
        id?: string;
        ok: boolean;
        result?: { alreadyAcknowledged: boolean };
        error?: { code: string };
      };
      const alertId = reply.id?.replace(/^ack-/, '');
      if (!alertId || !this.pending.has(alertId)) return;
      this.pending.delete(alertId);
      this.acks.set(
        alertId,
        reply.ok ? (reply.result?.alreadyAcknowledged ? 'already' : 'acknowledged') : (reply.error?.code ?? 'error'),
      );
    });
    await op.subscribeAsync('village/+/cmd-reply/ack', { qos: 1 });
    this.sub.on('event', (ev) => {
      if (ev.type !== 'alert.raised' || this.acks.has(ev.id) || this.pending.has(ev.id)) return;
      this.pending.set(ev.id, ev.gatewayId);
      this.sendAck(ev.id, ev.gatewayId);
    });
    this.timer = setInterval(() => {
      for (const [alertId, gw] of this.pending) this.sendAck(alertId, gw);
    }, RESEND_MS);
  }

  private sendAck(alertId: string, gatewayId: string): void {
    this.operator?.publish(
      `village/${gatewayId}/cmd/ack`,
      JSON.stringify({ id: `ack-${alertId}`, args: { alertId } }),
      { qos: 1 },
      () => {},
    );
  }

  /** Events of a type received so far (distinct ids), optionally of one gateway. */
  received(type: string, gatewayId?: string): CheckedEvent[] {
    return this.check.checker
      .events()
      .filter((e) => e.type === type && (gatewayId === undefined || e.gatewayId === gatewayId));
  }

  /** Alerts received whose acknowledgement has had no reply yet. */
  get unanswered(): number {
    return this.pending.size;
  }

  /** Counts what a CLI agent committed (its `stored` lines) for the delivery check. */
  committedBy(child: AgentChild): void {
    for (const [id, seq] of child.stored) this.check.checker.committed(id, seq);
  }

  /**
   * Waits until everything committed has arrived, counting what running CLI agents commit
   * meanwhile (a clean stop leaves what it did not send in the outbox, for the next boot),
   * or until `ms` passed; returns the checker's verdict either way.
   */
  async settle(ms: number, ...running: AgentChild[]): Promise<Verdict> {
    const end = Date.now() + ms;
    for (;;) {
      for (const child of running) this.committedBy(child);
      if (this.check.checker.undelivered().length === 0 || Date.now() > end) return this.check.checker.verdict();
      await new Promise((r) => setTimeout(r, 20)); // the polling step
    }
  }

  /**
   * Stops a CLI agent cleanly (SIGTERM). What it committed but had not sent yet (e.g. during
   * its own shutdown) stays in its outbox for the next boot, so boot it again (`restart`),
   * up to three times, until the county has everything committed. Returns each boot's ending.
   */
  async stopDelivering(child: AgentChild, restart: () => AgentChild, ms = 15_000): Promise<Ending[]> {
    const endings = [await child.kill('SIGTERM')];
    this.committedBy(child);
    for (let boot = 0; boot < 3 && this.check.checker.undelivered().length > 0; boot++) {
      const next = restart();
      await next.storedAtLeast(1, ms); // started: SIGTERM is handled from then on
      await this.settle(ms, next);
      endings.push(await next.kill('SIGTERM'));
      this.committedBy(next);
    }
    return endings;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.operator?.endAsync();
    await this.sub.stop();
  }
}
