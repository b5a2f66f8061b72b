/**
 * The outbox reader port's contract (outbox-reader-contract.ts) against its three
 * implementations: the SQLite outbox the uplink reads, the fleet twin's MemoryOutbox
 * (scripts/county) and the tests' ArrayOutbox.
 */
import { Outbox } from '../../agent/outbox/outbox.js';
import { MemoryOutbox } from '../../scripts/county/fleet-outbox.js';
import { ArrayOutbox } from '../helpers/array-outbox.js';
import { eventMaker } from '../helpers/events.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { outboxReaderContract, type MakeEvent } from './outbox-reader-contract.js';
import { outboxConfig } from '../helpers/agent-config.js';

const tempDir = useTempDirs();

const makeEvent = (): MakeEvent => {
  const make = eventMaker(tempDir());
  // Only the type: the outbox routes by it and never reads a payload.
  return (priority, health = false) => (health ? { ...make(priority), type: 'gateway.health' } : make(priority));
};

outboxReaderContract(
  'the SQLite Outbox (tiny segments)',
  () => {
    const outbox = new Outbox({ dir: tempDir(), config: outboxConfig(), segmentRows: 2 });
    return {
      reader: outbox,
      store: async (events) => {
        await Promise.all(events.map((e) => outbox.put(e)));
      },
      close: () => outbox.close(),
    };
  },
  makeEvent,
);

outboxReaderContract(
  'the fleet twin’s MemoryOutbox',
  () => {
    const outbox = new MemoryOutbox();
    return { reader: outbox, store: (events) => Promise.resolve(outbox.put(events)), close: () => {} };
  },
  makeEvent,
);

outboxReaderContract(
  'the tests’ ArrayOutbox',
  () => {
    const outbox = new ArrayOutbox([]);
    return { reader: outbox, store: (events) => Promise.resolve(outbox.put(events)), close: () => {} };
  },
  makeEvent,
);
