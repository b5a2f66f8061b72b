/** The `logs` ring through the real pino logger: bounded lines, level filter, secrets redacted. */
import { describe, expect, it } from 'vitest';
import { LogRing, LINE_CHARS } from '../../agent/diagnostics/log-ring.js';
import { createLogger } from '../../agent/logger.js';
import { offlineDevices, OFFLINE_LISTED } from '../../agent/health.js';
import { newestWithin, REPLY_BUDGET_BYTES } from '../../agent/commands/reply-budget.js';
import { openSync, closeSync } from 'node:fs';

const devNull = () => openSync('/dev/null', 'w');

describe('log ring', () => {
  it('keeps the last lines, cut to 500 characters, and filters by level', async () => {
    const ring = new LogRing(5);
    const fd = devNull();
    const logger = await createLogger('debug', { pretty: false, fd, ring });
    for (let i = 0; i < 8; i++) logger.info({ i }, 'line');
    logger.warn({ long: 'x'.repeat(2000) }, 'long');
    closeSync(fd);
    expect(ring.total).toBe(9);
    const all = ring.recent(200, 'trace');
    expect(all).toHaveLength(5);
    expect(all.at(-1)!.line).toHaveLength(LINE_CHARS);
    expect(all.at(-1)!.line.endsWith('...')).toBe(true);
    expect(all.map((l) => l.line.match(/"i":(\d)/)?.[1]).slice(0, 4)).toEqual(['4', '5', '6', '7']);
    expect(ring.recent(200, 'warn')).toHaveLength(1);
    expect(ring.recent(2, 'trace')).toHaveLength(2);
  });

  it('never keeps a password, a token or credentials in a URL', async () => {
    const ring = new LogRing();
    const fd = devNull();
    const logger = await createLogger('info', { pretty: false, fd, ring });
    logger.info({ password: 'p1-secret', mqtt: { password: 'p2-secret', token: 't-secret' } }, 'fields');
    logger.warn({ err: 'connect failed to mqtts://gw:p3-secret@broker:8883' }, 'in text');
    logger.error('failed: https://admin:p4-secret@camera/onvif');
    closeSync(fd);
    const text = ring
      .recent(10)
      .map((l) => l.line)
      .join('\n');
    expect(text).toContain('[redacted]');
    expect(text).toContain('gw:***@broker');
    expect(text).not.toMatch(/p\d-secret|t-secret/);
  });
});

describe('health and reply bounds', () => {
  it('names at most 20 offline devices, then counts the rest', () => {
    const drivers = Array.from({ length: 25 }, (_, i) => ({
      deviceIds: [`d${i}`],
      driver: 'modbus',
      transport: 't',
      online: i === 0,
      lastSeenMs: null,
      errors: 0,
      downReason: 'not answering',
    }));
    const r = offlineDevices(drivers);
    expect(r.offline).toHaveLength(OFFLINE_LISTED);
    expect(r.offlineMore).toBe(24 - OFFLINE_LISTED);
    expect(r.offline[0]).toEqual({ id: 'd1', reason: 'not answering' });
  });

  it('a reply keeps the newest items within the budget', () => {
    const items = Array.from({ length: 200 }, (_, i) => `${i}:${'y'.repeat(495)}`);
    const { kept, omitted } = newestWithin(items);
    expect(Buffer.byteLength(JSON.stringify(kept))).toBeLessThanOrEqual(REPLY_BUDGET_BYTES + kept.length);
    expect(kept.at(-1)).toBe(items.at(-1));
    expect(omitted).toBe(200 - kept.length);
    expect(omitted).toBeGreaterThan(0);
  });
});
