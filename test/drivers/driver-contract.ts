/**
 * The driver contract as one suite (as MQTT.js runs one abstract suite against every store):
 * `driverContract(name, make)` runs it against a driver `make` builds with its real peer
 * (test/helpers/driver-harnesses.ts). What every driver must do:
 *  - describe() its device(s) before start, while running and after stop (online only while running);
 *  - start, talk to its peer, and hand an input to its context as a typed event (a catalogued
 *    type's payload matches the catalogue);
 *  - write() to a real output, or refuse it at once with NO_OUTPUT naming the device;
 *  - stop idempotently: a second stop() waits for the first one's work (a pulse ended, the
 *    port closed), and both resolve; a third is harmless;
 *  - let its port or socket go: a second driver on the same port starts and talks;
 *  - stop while an operation is in flight, and that operation settles (never hangs);
 *  - refuse a write after stop with GatewayError `DRIVER_STOPPED`, at once.
 * Every step has a time limit: a hang is a failure, not a stuck run.
 */
import { describe, expect, it } from 'vitest';
import { eventSpec } from '../../core/contracts/events/catalogue.js';
import { GatewayError } from '../../core/kernel/errors.js';
import type { DriverHarness } from '../helpers/driver-harness.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { useUnhandled } from '../helpers/unhandled.js';
import { waitUntil } from '../helpers/wait.js';

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

export function driverContract(name: string, make: (dir: string) => Promise<DriverHarness>): void {
  describe(`driver contract: ${name}`, () => {
    const tempDir = useTempDirs();
    const cleanup = useCleanups();
    const unhandled = useUnhandled();

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

    it('describe() names its device before start, running and after stop', async () => {
      const h = await harness();
      const before = h.driver.describe();
      expect(before).toMatchObject({ driver: h.kind, online: false });
      expect(before.deviceIds).toContain(h.deviceId);
      expect(before.transport.length).toBeGreaterThan(0);
      await started(h);
      expect(h.driver.describe()).toMatchObject({ driver: h.kind, online: true, deviceIds: before.deviceIds });
      await within(h.driver.stop(), 'stop()');
      const after = h.driver.describe();
      expect(after).toMatchObject({ driver: h.kind, online: false });
      expect(after.deviceIds).toEqual(before.deviceIds);
    });

    it('an input from its peer reaches the context as a typed event', async () => {
      const h = await harness();
      await started(h);
      await h.provoke();
      const { type, deviceId } = h.provoked;
      const seen = () => h.made.find((e) => e.type === type && e.deviceId === deviceId);
      const saw = () => h.made.map((e) => `${e.deviceId}:${e.type}`).join(', ') || 'nothing';
      await waitUntil(() => seen() !== undefined, LIMIT_MS, `${type} from ${deviceId}`).catch((err: Error) => {
        throw new Error(`${err.message}; saw ${saw()}`);
      });
      const event = seen()!;
      expect(event.data).toBeTypeOf('object');
      // A catalogued type's payload must match the catalogue; a profile's own type is checked by the envelope only.
      const spec = eventSpec(type);
      if (spec) expect(spec.data.safeParse(event.data).error?.issues ?? []).toEqual([]);
      expect(event, 'the factory kept a payload it could not check').not.toHaveProperty('payloadInvalid');
    });

    it('write() drives a real output, or is refused at once with NO_OUTPUT naming the device', async () => {
      const h = await harness();
      await started(h);
      const res = await within(outcome(h.driver.write(h.command)), 'write()');
      if (h.outputDone) {
        expect(res).toEqual({ ok: true, value: undefined });
        await waitUntil(h.outputDone, LIMIT_MS, `${h.command.output} ${h.command.action} at the peer`);
      } else {
        expect(res.ok).toBe(false);
        const error = res.ok ? null : res.error;
        expect(error).toBeInstanceOf(GatewayError);
        expect(error).toMatchObject({ code: 'NO_OUTPUT', message: expect.stringContaining(h.deviceId) });
      }
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

    it('after stop its port is free: a second driver on the same port starts and talks to the peer', async () => {
      const h = await harness();
      await started(h);
      await within(h.driver.stop(), 'stop()');
      await within(h.stopAfter(), 'what stops after the driver');
      const next = await h.again();
      await within(next.start(new AbortController().signal), 'the second driver start()');
      await waitUntil(() => next.describe().online, LIMIT_MS, 'the second driver online');
      await within(next.stop(), 'the second driver stop()');
      expect(next.describe().online).toBe(false);
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
  });
}
