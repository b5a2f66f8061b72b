/**
 * mqtt.js's "outgoing store" for a client whose messages the outbox owns: it keeps nothing.
 * The default store holds every QoS 1 packet (payload included) until its PUBACK, so it can
 * resend after a reconnect; we never reconnect a client (each connection gets a new one,
 * and the outbox resends), so those copies were only garbage: at batch sizes, megabytes a
 * second promoted to the old heap. PUBACK handling still works: `del` answers as found.
 */
import { Readable } from 'node:stream';
import type { IStore } from 'mqtt';
import { GatewayError } from '../../core/kernel/errors.js';

class OutboxOwnedStore {
  put(_packet: unknown, cb?: () => void): this {
    cb?.();
    return this;
  }

  del(packet: unknown, cb?: (err: Error | null, packet?: unknown) => void): this {
    cb?.(null, packet);
    return this;
  }

  get(_packet: unknown, cb?: (err: Error | null) => void): this {
    cb?.(new GatewayError('FAILED', 'the outbox owns messages; mqtt.js keeps none'));
    return this;
  }

  createStream(): Readable {
    return Readable.from([], { objectMode: true });
  }

  close(cb?: () => void): void {
    cb?.();
  }
}

/** mqtt.js types its store with readable-stream's Readable; node's is the same at run time. */
export const outboxOwnedStore = (): IStore => new OutboxOwnedStore() as unknown as IStore;
