/**
 * The preset dictionary `deflate-dict1`: the shipped file is the pinned one, batches made with it
 * come back exactly, they need the dictionary to inflate at all (so it is really in use), they are
 * smaller than plain deflate on a village's batch, and a bomb still stops while inflating.
 */
import { readFileSync } from 'node:fs';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../core/contracts/event.js';
import { GatewayError } from '../../core/kernel/errors.js';
import { dictionaryPath, verifyDictionary, wireDictionary } from '../../core/contracts/wire-dictionary.js';
import { decodeBatchPayload, encodeBatchPayload, HEADER_BYTE } from '../../core/contracts/wire-payload.js';
import { uuidv7 } from '../../core/kernel/uuidv7.js';
import { villageReading, VILLAGE_SENSORS } from '../../scripts/bench/village-reading.js';

const GW = 'qingshan-village-03';
const BOOT = '0190a1b2-0000-4000-8000-000000000001';

/** A minute of a village: 20 radio sensors once each (random readings), and one health event. */
function villageMinute(t0: number): string[] {
  let t = t0;
  let seq = 5000;
  const env = (deviceId: string, type: string, priority: string, data: Record<string, unknown>) => {
    t += 3000;
    seq += 1;
    const e: GatewayEvent = {
      id: uuidv7(t),
      seq,
      bootId: BOOT,
      gatewayId: GW,
      deviceId,
      type,
      priority: priority as GatewayEvent['priority'],
      ts: new Date(t).toISOString(),
      monoMs: Math.round((86_400_000 + t - t0 + Math.random()) * 1000) / 1000,
      clockSynced: true,
      data,
    };
    return JSON.stringify(e);
  };
  const readings = Array.from({ length: VILLAGE_SENSORS }, (_, i) => {
    const r = villageReading(i);
    return env(r.deviceId, 'sensor.reading', r.priority, r.data);
  });
  const zero = { count: 0, bytes: 0 };
  const health = env(GW, 'gateway.health', 'low', {
    backlog: { critical: zero, high: zero, normal: { count: 12, bytes: 5230 }, low: zero },
    backlogTotal: { count: 12, bytes: 5230 },
    oldestAgeSec: 41,
    oldestAgeMs: 41_234,
    shed: { critical: 0, high: 0, normal: 0, low: 0 },
    uplink: {
      state: 'up',
      reconnects: 2,
      attempts: 3,
      lastError: null,
      downForSec: null,
      downForMs: null,
      lastPubackAgeSec: 1,
      lastPubackAgeMs: 1234,
      inflight: 0,
      inflightBytes: 0,
      linkRateBytesPerSec: 3412,
      linkMinRttMs: 412,
    },
    devices: { total: 3, online: 3, offline: [], offlineMore: 0 },
    rssBytes: 59_117_568,
    diskFreeBytes: 7_656_555_315,
    storage: { failures: { commit: 0, delete: 0, sweep: 0 }, eventsNotStored: 0, lastError: null },
    payloadProblems: 0,
    uptimeSec: 87_013,
    uptimeMs: 87_013_214,
  });
  return [...readings, health];
}

describe('the deflate-dict1 preset dictionary', () => {
  it('the shipped file is the pinned one; anything else is refused with CONFIG_CANNOT_RUN', () => {
    const bytes = readFileSync(dictionaryPath('deflate-dict1'));
    expect(wireDictionary('deflate-dict1').equals(bytes)).toBe(true);
    expect(bytes.length).toBeLessThanOrEqual(32 * 1024); // deflate looks back 32 KiB at most
    const edited = Buffer.from(bytes);
    edited[100] = edited[100]! ^ 0x01;
    const err = (() => {
      try {
        verifyDictionary('deflate-dict1', edited, 'x.txt');
      } catch (e) {
        return e as GatewayError;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(GatewayError);
    expect(err!.code).toBe('CONFIG_CANNOT_RUN');
    expect(err!.message).toMatch(/x\.txt.*not the shipped one/);
  });

  it('a batch comes back exactly, under header 0x03, and only with the dictionary', () => {
    const bodies = villageMinute(Date.UTC(2026, 11, 6, 8));
    const payload = encodeBatchPayload(GW, bodies, 'deflate-dict1');
    expect(payload[0]).toBe(HEADER_BYTE['deflate-dict1']);
    expect(decodeBatchPayload(payload).map((e) => JSON.stringify(e))).toEqual(bodies);
    // Without the dictionary the stream refers back into nothing: zlib refuses it.
    expect(() => inflateRawSync(payload.subarray(1))).toThrow();
    // Plain deflate's header byte on dictionary bytes: unreadable, with the reason, never a crash.
    const mislabelled = Buffer.from(payload);
    mislabelled[0] = HEADER_BYTE.deflate;
    expect(() => decodeBatchPayload(mislabelled)).toThrow(/deflate payload does not decompress/);
  });

  it('makes a village minute (20 readings and a health event) at least 15 % smaller than deflate', () => {
    let plain = 0;
    let dict = 0;
    for (let k = 0; k < 20; k++) {
      const bodies = villageMinute(Date.UTC(2026, 11, 6, 8, k));
      plain += encodeBatchPayload(GW, bodies, 'deflate').length;
      dict += encodeBatchPayload(GW, bodies, 'deflate-dict1').length;
    }
    // Measured: ~0.70 (the health event gains most: its keys are all in the dictionary).
    expect(dict / plain).toBeLessThan(0.85);
  });

  it('stops a bomb while inflating, as plain deflate does', () => {
    const zeros = Buffer.alloc(64 * 1024 ** 2, 0x20);
    const bomb = deflateRawSync(zeros, { dictionary: wireDictionary('deflate-dict1') });
    const payload = Buffer.concat([Buffer.from([HEADER_BYTE['deflate-dict1']]), bomb]);
    expect(() => decodeBatchPayload(payload)).toThrow(/deflate-dict1 payload does not decompress/);
  });
});
