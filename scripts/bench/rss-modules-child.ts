/**
 * The child of `--only rss-modules` (rss-modules.ts starts it with the CLI's own V8 flags):
 * imports the parts the `run` path loads, in the agent's order, and after each part prints one
 * JSON line with the process's RSS and V8 heap. Each figure is what that part adds on top of the
 * parts before it (a module two parts share counts for the first).
 */
import { readFileSync } from 'node:fs';

/** The parts in the order `village-gateway run` meets them (config first, then the agent). */
export const PARTS: { name: string; what: string; specifiers: string[]; runLoads: boolean }[] = [
  { name: 'zod', what: 'zod (classic API: core, locales, JSON Schema code)', specifiers: ['zod'], runLoads: true },
  {
    name: 'schemas',
    what: 'event catalogue and config schemas (zod objects)',
    specifiers: ['../../core/contracts/events/catalogue.js', '../../config/schema/gateway-config.js'],
    runLoads: true,
  },
  { name: 'yaml', what: 'yaml and the config loader', specifiers: ['../../config/load-config.js'], runLoads: true },
  { name: 'pino', what: 'pino (the logger)', specifiers: ['../../agent/logger.js'], runLoads: true },
  {
    name: 'sqlite',
    what: 'better-sqlite3 and the outbox code',
    specifiers: ['../../agent/outbox/outbox.js'],
    runLoads: true,
  },
  {
    name: 'mqtt',
    what: 'mqtt (the client and mqtt-packet)',
    specifiers: ['../../agent/uplink/broker-stream.js'],
    runLoads: true,
  },
  { name: 'lowdb-sift', what: 'lowdb (alarm state) and sift (rules)', specifiers: ['lowdb', 'sift'], runLoads: true },
  { name: 'media', what: 'picture store and upload code', specifiers: ['../../agent/wire-media.js'], runLoads: true },
  {
    name: 'update',
    what: 'release update code',
    specifiers: ['../../agent/update/stager.js', '../../agent/update/mqtt-source.js', '../../agent/commands/update.js'],
    runLoads: true,
  },
  {
    name: 'agent',
    what: 'the rest of the agent (uplink, rules, alarms, commands, health)',
    specifiers: ['../../agent/agent.js'],
    runLoads: true,
  },
  {
    name: 'cli-other',
    what: 'code of the CLI commands other than run (plan, status, devices, outbox stats, editor)',
    specifiers: [
      '../../agent/plan.js',
      '../../agent/plan-report.js',
      '../../agent/status-report.js',
      '../../agent/devices-report.js',
      '../../agent/outbox/inspect.js',
      '../../agent/outbox-report.js',
      '../../agent/cli-editor.js',
      '../../agent/flows-network.js',
    ],
    runLoads: false,
  },
  {
    name: 'nodered',
    what: 'Node-RED supervisor and bridge code; only when the config runs Node-RED',
    specifiers: ['../../agent/nodered/supervisor.js', '../../agent/wire-nodered.js'],
    runLoads: false,
  },
  {
    name: 'zlib',
    what: 'node:zlib; only for compressed wire batches or an update',
    specifiers: ['node:zlib'],
    runLoads: false,
  },
  { name: 'tls', what: 'node:tls; only for a TLS broker', specifiers: ['node:tls'], runLoads: false },
  {
    name: 'driver.modbus',
    what: 'Modbus driver (modbus-serial); only when a device uses it',
    specifiers: ['../../drivers/modbus/modbus-bus.js', '../../drivers/modbus/modbus-device-driver.js'],
    runLoads: false,
  },
  {
    name: 'driver.serial',
    what: 'serial driver (serialport); only when a device uses it',
    specifiers: ['../../drivers/serial/serial-device-driver.js'],
    runLoads: false,
  },
  {
    name: 'driver.modem',
    what: 'GSM modem driver; only when a device uses it',
    specifiers: ['../../drivers/modem/gsm-modem-driver.js'],
    runLoads: false,
  },
  {
    name: 'driver.camera',
    what: 'camera driver; only when a device uses it',
    specifiers: ['../../drivers/camera/camera-driver.js'],
    runLoads: false,
  },
];

/** RSS from smaps_rollup (what the kernel counts), in MB. */
function rssMb(): number {
  const m = /^Rss:\s+(\d+) kB/m.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 2 ** 20;
}

/** A full GC (the parent adds --expose-gc) after a pause: each figure is what the part keeps, not when V8 last collected. */
const settle = async () => {
  await new Promise((r) => setTimeout(r, 100));
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 100));
};

async function main(): Promise<void> {
  const print = (part: string) =>
    process.stdout.write(
      `${JSON.stringify({ part, rssMb: rssMb(), heapMb: process.memoryUsage().heapUsed / 2 ** 20 })}\n`,
    );
  await settle();
  print('node');
  for (const part of PARTS) {
    for (const s of part.specifiers) await import(s);
    await settle();
    print(part.name);
  }
}

if (process.argv[2] === 'measure') void main();
