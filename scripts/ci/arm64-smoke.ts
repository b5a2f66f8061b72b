/**
 * What an arm64 bundle must do on a Pi, run under qemu-user by scripts/ci/arm64-smoke.sh: the
 * native add-ons cross-built for aarch64 load and work. The outbox (better-sqlite3, WAL) takes
 * alarms and telemetry, and a reopened outbox gives every one back; a serial line (serialport's
 * bindings-cpp) reads a device's line from a pty the harness writes into. Prints one JSON line
 * and exits 0 only when all of it held.
 *
 *   node dist/scripts/ci/arm64-smoke.js --pty /dev/pts/N --expect "LINE"
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ReadlineParser } from '@serialport/parser-readline';
import { SerialPort } from 'serialport';
import { Outbox } from '../../agent/outbox/outbox.js';
import type { Cursor } from '../../core/contracts/outbox-store.js';
import { eventSource, outboxConfig } from '../bench/fixtures.js';

const ALARMS = 50;
const READINGS = 500;

async function outboxRoundTrip(): Promise<{ stored: number; journal: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'vg-arm64-'));
  try {
    const make = eventSource(dir);
    let outbox = new Outbox({ dir, config: outboxConfig() });
    outbox.on('storageFailure', (f) => console.error('storage failure', f));
    const puts: Promise<void>[] = [];
    for (let i = 0; i < ALARMS; i++) puts.push(outbox.put(make('critical', i)));
    for (let i = 0; i < READINGS; i++) puts.push(outbox.put(make('normal', i)));
    await Promise.all(puts);
    outbox.close();
    outbox = new Outbox({ dir, config: outboxConfig() });
    outbox.on('storageFailure', (f) => console.error('storage failure', f));
    let stored = 0;
    let cursor: Cursor | null = null;
    for (;;) {
      const page = outbox.readPage(cursor, 200);
      const last = page.at(-1);
      if (!last) break;
      stored += page.length;
      cursor = { prio: last.prio, pos: last.pos };
    }
    outbox.close();
    const db = new Database(join(dir, 'outbox.db'), { readonly: true });
    const journal = String(db.pragma('journal_mode', { simple: true }));
    db.close();
    return { stored, journal };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readOneLine(path: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate: 9600, autoOpen: false });
    port.on('error', reject);
    const timer = setTimeout(() => reject(new Error(`no line on ${path} within ${timeoutMs} ms`)), timeoutMs);
    const lines = port.pipe(new ReadlineParser({ delimiter: '\n' }));
    lines.on('error', reject);
    lines.once('data', (line: string) => {
      clearTimeout(timer);
      port.close(() => resolve(line.trim()));
    });
    port.open((err) => {
      if (err) reject(err);
      else process.stdout.write('pty open\n'); // the harness writes once it sees this
    });
  });
}

const { values } = parseArgs({ options: { pty: { type: 'string' }, expect: { type: 'string' } } });
const outbox = await outboxRoundTrip();
const line = values.pty ? await readOneLine(values.pty, 60_000) : null;
const ok =
  outbox.stored === ALARMS + READINGS &&
  outbox.journal === 'wal' &&
  (values.expect === undefined || line === values.expect);
console.log(JSON.stringify({ ok, arch: process.arch, node: process.version, outbox, serialLine: line }));
process.exit(ok ? 0 : 1);
