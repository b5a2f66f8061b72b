/** A small card for the storage fault tests: a tmpfs (as root) and a way to fill it to the last byte. */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { TestConfigOver } from './agent-config.js';
import type { DeviceInput } from './config-input.js';
import { ioBoard, panicRule, tcpBus } from './village-config.js';

/** Mounts a tmpfs of `size` (e.g. '3m') at a new folder in `parent`; the cleanup unmounts it. */
export function mountSmallCard(parent: string, size: string, cleanup: (fn: () => void) => void): string {
  const dir = join(parent, 'card');
  mkdirSync(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  cleanup(() => execFileSync('umount', ['-l', dir]));
  return dir;
}

/** Fills the file system with one file until it refuses a byte more; returns the file. */
export function fillCard(dir: string, name = 'filler.bin'): string {
  const file = join(dir, name);
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return file;
}

/**
 * The village of the full-card tests, as config sections: the panic panel on Modbus TCP (a
 * button on di1, the siren on do7, a rule pulsing it and raising an alert), a synthetic meter
 * filling the card with telemetry, and a 1 MiB reserve (capped at 10% of a 3 MB card). `extra`
 * devices (a modem) join the panel and the meter.
 */
export function fullCardVillage(o: {
  simPort: number;
  telemetryPerSec: number;
  sirenPulseMs: number;
  extra?: DeviceInput[];
}): TestConfigOver {
  return {
    outbox: { diskReserveBytes: '1MiB' },
    health: { intervalSec: 1 },
    buses: [tcpBus(o.simPort, 200)],
    devices: [
      ioBoard({
        pollMs: 30,
        inputs: { di1: { role: 'alarm-button', id: 'house-1-panic' } },
        outputs: { do7: { id: 'siren' } },
      }),
      {
        id: 'meter',
        driver: 'synthetic',
        rates: { doorPerSec: 0, buttonPerSec: 0, telemetryPerSec: o.telemetryPerSec },
        telemetryBytes: 400,
      },
      ...(o.extra ?? []),
    ],
    rules: [panicRule({ pulseMs: o.sirenPulseMs, message: 'panic' })],
  };
}
