/**
 * The one path every event takes: create (envelope and seq) -> commit (queued in the
 * outbox) -> publish (local consumers) -> schedule (the commit's timing by priority).
 * An event is queued for commit the moment it has its seq, before consumers see it: a rule
 * that reacts by emitting an alert queues (and may commit) it behind the event that caused
 * it, so events commit in seq order.
 */
import { failure } from '../core/kernel/errors.js';
import type { Logger } from 'pino';
import type { EventInput, GatewayEvent } from '../core/contracts/event.js';
import { isStorageRefusal } from '../core/contracts/outbox-store.js';
import type { EventBus } from './event-bus.js';
import type { EventFactory } from './event-factory.js';
import type { Outbox } from './outbox/outbox.js';

export interface EventPipelinePorts {
  factory: EventFactory;
  outbox: Outbox;
  bus: EventBus;
  logger: Logger;
  /** Told of every event with its commit (lost-alarms.ts counts and reports refusals). */
  watch(event: GatewayEvent, stored: Promise<void>): void;
}

export class EventPipeline {
  constructor(private readonly p: EventPipelinePorts) {}

  /** Captures an event: local consumers see it at once; resolves once it is durable. */
  emit(input: EventInput, beforeCommit?: (event: GatewayEvent) => void): Promise<GatewayEvent> {
    let event: GatewayEvent;
    try {
      event = this.p.factory.create(input);
    } catch (err) {
      return Promise.reject(err);
    }
    if (beforeCommit) {
      try {
        beforeCommit(event);
      } catch (err) {
        this.p.logger.error(failure('LISTENER_FAILED', err, { eventId: event.id }), 'before-commit step failed');
      }
    }
    const stored = this.p.outbox.enqueue(event);
    this.p.watch(event, stored);
    this.p.bus.publish(event);
    this.p.outbox.schedule(event.priority);
    return stored.then(() => event);
  }

  /** Commits an envelope made earlier that was never stored (a report sent from memory); no consumer sees it again. */
  store(event: GatewayEvent): Promise<void> {
    const stored = this.p.outbox.enqueue(event);
    this.p.outbox.schedule(event.priority);
    return stored;
  }

  /** An event of the agent's own that may fail to be stored (a full or lost disk): logged, never thrown. */
  emitLogged(input: EventInput): void {
    this.emit(input).catch(
      (err: Error) =>
        isStorageRefusal(err) ||
        this.p.logger.error(failure('STORAGE_FAILED', err, { type: input.type }), `${input.type} not stored`),
    );
  }
}
