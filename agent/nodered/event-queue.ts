/**
 * The bounded queue of bus events on their way to the Node-RED child. Fed synchronously from
 * the bus (the alarm path never waits on it): when full, the oldest is dropped and counted;
 * an event that waited longer than maxAgeMs (a dead or stuck child) is dropped when its turn
 * comes, so flows never act on old news as if it were now.
 */
import type { GatewayEvent } from '../../core/contracts/event.js';
import type { ToChild } from '../../core/contracts/nodered-ipc.js';

export interface EventSink {
  readonly writable: boolean;
  /** false: over the frame limit or not serialisable. */
  send(m: ToChild): boolean;
}

export class ChildEventQueue {
  private readonly items: { msg: { t: 'event'; event: GatewayEvent; tags: string[] }; at: number }[] = [];
  dropped = 0;
  sent = 0;
  private pumpScheduled = false;

  constructor(
    private readonly size: number,
    private readonly maxAgeMs: number,
    private readonly monoMs: () => number,
  ) {}

  get length(): number {
    return this.items.length;
  }

  /** Synchronous and cheap: the alarm path calls this for every event. */
  push(event: GatewayEvent, tags: string[]): void {
    if (this.items.length >= this.size) {
      this.items.shift();
      this.dropped += 1;
    }
    this.items.push({ msg: { t: 'event', event, tags }, at: this.monoMs() });
  }

  /** Sends while the sink takes it (its 'drain' calls again): a stuck child holds at most the socket's high water of ours. */
  drain(sink: EventSink, go: () => boolean): void {
    while (go() && sink.writable && this.items.length > 0) {
      const { msg, at } = this.items.shift()!;
      // Too old, over the frame limit or not serialisable (a BigInt, a cycle): counted as dropped.
      if (this.monoMs() - at > this.maxAgeMs || !sink.send(msg)) this.dropped += 1;
      else this.sent += 1;
    }
  }

  /** Drains on the next turn of the event loop (once however often asked), to the sink of that moment. */
  drainSoon(sink: () => EventSink | null, go: () => boolean): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      const s = sink();
      if (s) this.drain(s, go);
    });
  }

  clear(): void {
    this.items.length = 0;
  }
}
