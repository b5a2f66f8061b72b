/**
 * In-process fan-out of events to local consumers (rules, Node-RED, tracing). Synchronous,
 * so rules see an event the moment it is captured, before any disk or network. A listener
 * that throws is logged and removed from nothing: one bad consumer never takes down the bus.
 * Listeners run in the order they were added, whether they take every event or one type.
 */
import type { Logger } from 'pino';
import type { GatewayEvent } from '../core/contracts/event.js';
import type { EventOf, EventType } from '../core/contracts/events/catalogue.js';
import { failure } from '../core/kernel/errors.js';

export type EventListener = (event: GatewayEvent) => void;

export class EventBus {
  private readonly listeners = new Set<EventListener>();
  errors = 0;

  constructor(private readonly logger: Logger) {}

  /** Every event. Returns the unsubscribe function; owners call it on stop. */
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Events of one catalogued type, with the payload typed (the factory refused any event of
   * that type whose payload did not match the catalogue, except an alarm-class one: it comes
   * with `payloadInvalid: true`, as it must still sound the siren). Returns the unsubscribe function.
   */
  on<T extends EventType>(type: T, handler: (event: EventOf<T>) => void): () => void {
    const listener: EventListener = (event) => {
      if (event.type === type) handler(event as EventOf<T>);
    };
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(event: GatewayEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.errors += 1;
        this.logger.error(failure('LISTENER_FAILED', err, { eventId: event.id }), 'event listener failed');
      }
    }
  }
}
