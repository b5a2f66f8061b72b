/**
 * The driver contract, one suite for every driver kind (as MQTT.js runs one abstract suite
 * against every store): each kind against its real peer. What every driver must do:
 *  - start, talk to its peer, report events;
 *  - stop idempotently: a second stop() waits for the first one's work (a pulse ended, the
 *    port closed), and both resolve;
 *  - stop while an operation is in flight, and that operation settles (never hangs);
 *  - refuse a write after stop with GatewayError `DRIVER_STOPPED`, at once;
 *  - describe() before start, running and after stop (online only while running).
 * Every step has a time limit: a hang is a failure, not a stuck run.
 */
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../core/kernel/errors.js';
import {
  cameraHarness,
  modbusHarness,
  modemHarness,
  serialHarness,
  syntheticHarness,
  type DriverHarness,
} from '../helpers/driver-harnesses.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { useUnhandled } from '../helpers/unhandled.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();
const unhandled = useUnhandled();

/** Generous on a shared 2-core machine; far below any library's own timeout (5 s AT, 60 s SMS). */
const LIMIT_MS = 3000;

/** Settles `p` or fails naming what hung. */
async function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>(
        (_, reject) =>
          (timer = setTimeout(() => reject(new Error(`${what} did not settle within ${LIMIT_MS} ms`)), LIMIT_MS)),
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The outcome of a promise, without letting a rejection go unhandled. */
const outcome = (p: Promise<unknown>) =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

const kinds: [string, (dir: string) => Promise<DriverHarness>][] = [
  ['synthetic', syntheticHarness],
  ['modbus (TCP, modbus-serial server)', modbusHarness],
  ['serial (socat pty)', serialHarness],
  ['modem (socat pty, modem simulator)', modemHarness],
  ['camera (Hikvision ISAPI simulator)', cameraHarness],
];

describe.each(kinds)('driver contract: %s', (_name, make) => {
  async function harness(): Promise<DriverHarness> {
    const h = await make(tempDir());
    cleanup(() => h.dispose());
    cleanup(() => expect(unhandled.errors, 'unhandled errors').toEqual([]));
    return h;
  }

  async function started(h: DriverHarness): Promise<AbortController> {
    const abort = new AbortController();
    await within(h.driver.start(abort.signal), 'start()');
    await h.ready();
    return abort;
  }

  it('starts, talks to its peer and reports events', async () => {
    const h = await harness();
    await started(h);
    await h.provoke();
    await waitUntil(() => h.events.length > 0, LIMIT_MS, `an event from the ${h.kind} driver`);
  });

  it('stop twice: the second call waits for the first one, both resolve, the driver lets go', async () => {
    const h = await harness();
    await started(h);
    const done = await h.pendingWork();
    let firstDone = false;
    const first = h.driver.stop().then(() => void (firstDone = true));
    const second = h.driver.stop();
    await within(second, 'the second stop()');
    expect(firstDone, 'the first stop() had finished when the second resolved').toBe(true);
    expect(done(), 'the work stop() owes (a pulse ended) was done').toBe(true);
    await within(first, 'the first stop()');
    expect(await h.released(), 'resources released after stop').toBe(true);
    await within(h.driver.stop(), 'a third stop()');
  });

  it('stop while an operation is in flight: both settle, the operation never hangs', async () => {
    const h = await harness();
    await started(h);
    const op = outcome(h.inFlight());
    await within(h.driver.stop(), 'stop() during an operation');
    const res = await within(op, 'the operation in flight');
    if (!res.ok) expect(res.error, 'a failed operation fails with a GatewayError').toBeInstanceOf(GatewayError);
  });

  it('write after stop rejects with DRIVER_STOPPED, at once', async () => {
    const h = await harness();
    await started(h);
    await within(h.driver.stop(), 'stop()');
    const res = await within(outcome(h.driver.write(h.command)), 'write() after stop');
    expect(res.ok).toBe(false);
    expect(res.ok ? null : res.error).toBeInstanceOf(GatewayError);
    expect(res.ok ? null : res.error).toMatchObject({ code: 'DRIVER_STOPPED' });
  });

  it('aborting the start signal stops it like stop()', async () => {
    const h = await harness();
    const abort = await started(h);
    abort.abort();
    await within(h.driver.stop(), 'stop() after the abort');
    expect(h.driver.describe().online).toBe(false);
    expect(await h.released(), 'resources released after the abort').toBe(true);
  });

  it('describe() before start, running and after stop', async () => {
    const h = await harness();
    const before = h.driver.describe();
    expect(before).toMatchObject({ driver: h.kind, online: false });
    expect(before.deviceIds).toContain(h.deviceId);
    expect(before.transport.length).toBeGreaterThan(0);
    await started(h);
    expect(h.driver.describe()).toMatchObject({ driver: h.kind, online: true });
    await within(h.driver.stop(), 'stop()');
    const after = h.driver.describe();
    expect(after).toMatchObject({ driver: h.kind, online: false });
    expect(after.deviceIds).toEqual(before.deviceIds);
  });
});
