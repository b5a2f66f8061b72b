/**
 * The publisher port (agent/uplink/publisher.ts) as a test drives it: it keeps every message
 * published and settles one when the test, or the far side it was given, says so: a PUBACK,
 * a refusal, or nothing ever (a link that went). It keeps the port's contract
 * (test/uplink/publisher-contract.ts runs against it as against mqtt.js on a real broker).
 */
import type { Publisher, PublishAck, PublishOptions } from '../../agent/uplink/publisher.js';

export class Published {
  private settled = false;

  constructor(
    readonly topic: string,
    /** As it was when published (a Buffer is copied, as a socket write would have taken it). */
    readonly payload: string | Buffer,
    readonly opts: PublishOptions,
    private readonly onAck: PublishAck,
    private readonly linkUp: () => boolean,
  ) {}

  get pending(): boolean {
    return !this.settled && this.linkUp();
  }

  /** The broker's PUBACK. Ignored once settled, or once the link went (the PUBACK never came). */
  ack(): void {
    this.settle();
  }

  /** The broker refused it (an MQTT 5 reason code) or the client could not send it. */
  fail(err: Error): void {
    this.settle(err);
  }

  private settle(err?: Error): void {
    if (!this.pending) return;
    this.settled = true;
    this.onAck(err);
  }
}

export class PublisherDouble implements Publisher {
  readonly sent: Published[] = [];
  private up = true;

  /** `farSide` sees each message as it is published: it may ack or fail it, now or later, or leave it to the test. */
  constructor(private readonly farSide: (m: Published) => void = () => {}) {}

  publish(topic: string, payload: string | Buffer, opts: PublishOptions, onAck: PublishAck): void {
    if (!this.up) {
      onAck(new Error('client disconnecting')); // as mqtt.js answers a publish on a client that is ending
      return;
    }
    const m = new Published(
      topic,
      Buffer.isBuffer(payload) ? Buffer.from(payload) : payload,
      opts,
      onAck,
      () => this.up,
    );
    this.sent.push(m);
    this.farSide(m);
  }

  /** Messages on the wire, not yet settled, in the order they were published. */
  get pending(): Published[] {
    return this.sent.filter((m) => m.pending);
  }

  /** The link goes: what is in flight is never settled, and a later publish fails at once. */
  cut(): void {
    this.up = false;
  }
}
