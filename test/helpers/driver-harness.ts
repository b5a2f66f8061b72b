/**
 * What the driver contract (test/drivers/driver-contract.ts) needs of one driver kind, and the
 * way every harness builds its driver: by the registry, as the agent builds it, against a real
 * peer. The agent side of the context (emit) only records and makes the envelope (the event
 * factory, which checks a catalogued type's payload): the contract tests the driver, not the
 * outbox.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import type { Driver, OutputCommand, SharedBus } from '../../core/contracts/driver.js';
import type { EventInput, GatewayEvent } from '../../core/contracts/event.js';
import { EventFactory } from '../../agent/event-factory.js';
import { SeqCounter } from '../../agent/seq-counter.js';
import type { Clock } from '../../core/kernel/clock.js';
import { systemClock } from '../../core/kernel/system-clock.js';
import { resolveProfiles } from '../../config/load-config.js';
import { createDrivers } from '../../drivers/registry.js';
import { testConfig, type TestConfigOver } from './agent-config.js';
import { quietLogger } from './quiet-logger.js';

export interface DriverHarness {
  readonly kind: 'synthetic' | 'modbus' | 'serial' | 'modem' | 'camera';
  readonly deviceId: string;
  readonly driver: Driver;
  /** What the driver emitted. */
  readonly events: EventInput[];
  /** The envelopes the event factory made of them (a catalogued type's payload checked). */
  readonly made: GatewayEvent[];
  /** Waits until the driver talks to its peer (online). */
  ready(): Promise<void>;
  /** Makes the peer produce something the driver reports as an event... */
  provoke(): Promise<void>;
  /** ...this one (its type and the device id it is reported under). */
  readonly provoked: { type: string; deviceId: string };
  /** A command for this device: a real output where it has one. */
  readonly command: OutputCommand;
  /** Where `command` is a real output: the peer shows it done. Absent: the device has no outputs. */
  readonly outputDone?: () => boolean;
  /** Leaves work for stop() (a gateway-timed pulse to end), and says how to see it was done. */
  pendingWork(): Promise<() => boolean>;
  /** Starts an operation the peer holds back (a write to a slow unit, an SMS to a hung modem). */
  inFlight(): Promise<unknown>;
  /** After stop: the driver's resources are released (its port can be opened again, nothing is polled). */
  released(): Promise<boolean>;
  /** Stops what the agent stops after the device's driver (a Modbus bus, which owns the line). */
  stopAfter(): Promise<void>;
  /** A second driver of the same config on the same port and peer (not started). */
  again(): Promise<Driver>;
  dispose(): Promise<void>;
}

export type Cleanup = () => Promise<unknown> | unknown;

export interface Built {
  driver: Driver;
  events: EventInput[];
  made: GatewayEvent[];
  buses: Map<string, SharedBus>;
}

/** The driver of the config's one device, built by the registry, its buses started; `clock` its context's. */
export async function buildDriver(
  dir: string,
  over: TestConfigOver,
  cleanups: Cleanup[],
  clock: Clock = systemClock('always'),
): Promise<Built> {
  mkdirSync(dir, { recursive: true });
  const config = testConfig('mqtt://127.0.0.1:1', dir, over);
  const { profiles, problems } = resolveProfiles(config, dir);
  if (problems.length > 0) throw new Error(`harness config: ${JSON.stringify(problems)}`);
  const events: EventInput[] = [];
  const made: GatewayEvent[] = [];
  const factory = new EventFactory('gw-conformance', SeqCounter.open(join(dir, 'seq.json'), 0), clock);
  const emit = (e: EventInput): Promise<GatewayEvent> => {
    events.push(e);
    const event = factory.create(e);
    made.push(event);
    return Promise.resolve(event);
  };
  const created = await createDrivers(
    config,
    profiles,
    () => ({ logger: quietLogger(), clock, emit }),
    () => quietLogger(),
  );
  for (const bus of created.buses.values()) {
    bus.start();
    cleanups.push(() => bus.stop());
  }
  const driver = [...created.drivers.values()][0]!;
  cleanups.push(() => driver.stop());
  return { driver, events, made, buses: created.buses };
}

/**
 * The parts every harness shares: its build, a second build of the same config, and a dispose
 * that runs `cleanups` (the peer's, pushed first) in reverse: drivers stop before their peer.
 */
export async function harnessBase(dir: string, over: TestConfigOver, cleanups: Cleanup[] = []) {
  const built = await buildDriver(dir, over, cleanups);
  let builds = 0;
  return {
    ...built,
    stopAfter: async () => void (await Promise.all([...built.buses.values()].map((b) => b.stop()))),
    again: async () => (await buildDriver(join(dir, `again-${++builds}`), over, cleanups)).driver,
    dispose: async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    },
  };
}

/** The port at `path` can be opened (and locked) again: the driver let it go. */
export async function portFree(path: string): Promise<boolean> {
  const probe = new SerialPort({ path, baudRate: 9600, autoOpen: false });
  probe.on('error', () => undefined); // the answer is the open callback's
  const opened = await new Promise<boolean>((resolve) => probe.open((err) => resolve(!err)));
  if (opened) await new Promise<void>((resolve) => probe.close(() => resolve()));
  return opened;
}
