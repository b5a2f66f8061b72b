/**
 * Events sent from memory: the few the outbox could not store (the disk full past its
 * reserve), today only `gateway.events_lost`, which tells the county of alarms the gateway
 * lost. Everything else leaves through the outbox; these cannot, so they are held here and
 * published as single events on `<prefix>/events` (QoS 1, as the drain sends an alarm alone)
 * while the link is up: again at every connection, and again every `retryMs` on the same
 * connection until the broker's PUBACK (the outbox-owned store keeps no copy to resend).
 * The county drops duplicates by id. Held in memory: lost-alarms.ts stores the same envelope
 * once the card has room again; a restart before either loses it (its seq then shows as a gap
 * to the county's checker). Bounded: the oldest go first.
 */
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { GatewayEvent } from '../../core/contracts/event.js';
import { failure } from '../../core/kernel/errors.js';

const MAX_HELD = 1000;

export class MemorySender {
  private readonly held = new Map<string, string>();
  private client: MqttClient | null = null;
  private timer: NodeJS.Timeout | null = null;
  delivered = 0;
  dropped = 0;

  constructor(
    private readonly topic: string,
    private readonly retryMs: number,
    private readonly logger: Logger,
  ) {}

  get waiting(): number {
    return this.held.size;
  }

  send(event: GatewayEvent): void {
    if (this.held.size >= MAX_HELD) {
      const oldest = this.held.keys().next().value!;
      this.held.delete(oldest);
      this.dropped += 1;
    }
    this.held.set(event.id, JSON.stringify(event));
    this.publish(event.id);
    this.arm();
  }

  attach(client: MqttClient): void {
    this.client = client;
    for (const id of this.held.keys()) this.publish(id);
    this.arm();
  }

  detach(): void {
    this.client = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private arm(): void {
    if (this.timer || !this.client || this.held.size === 0) return;
    this.timer = setInterval(() => {
      if (this.held.size === 0) return this.detachTimer();
      for (const id of this.held.keys()) this.publish(id);
    }, this.retryMs);
  }

  private detachTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private publish(id: string): void {
    const client = this.client;
    const body = this.held.get(id);
    if (!client || body === undefined) return;
    client.publish(this.topic, body, { qos: 1 }, (err) => {
      if (err) {
        this.logger.warn(failure('PUBLISH_FAILED', err, { id }), 'event held in memory not acknowledged; sent again');
        return;
      }
      if (this.held.delete(id)) this.delivered += 1;
    });
  }
}
