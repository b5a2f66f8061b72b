/** Review probes for the v2 batch decoder: bombs, truncation, odd envelopes, amplification. */
import { brotliCompressSync, deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeBatchPayload, encodeBatchPayload } from '../../core/contracts/wire-payload.js';
import { eventsOfMessage } from '../../scripts/county/decode-message.js';

const withHeader = (h: number, body: Buffer) => Buffer.concat([Buffer.from([h]), body]);

describe('decode hardening', () => {
  it('deflate and brotli bombs stop while inflating', () => {
    const zeros = Buffer.alloc(200 * 1024 * 1024, 0x20);
    expect(() => decodeBatchPayload(withHeader(1, deflateRawSync(zeros)))).toThrow(/does not decompress/);
    expect(() => decodeBatchPayload(withHeader(2, brotliCompressSync(zeros)))).toThrow(/does not decompress/);
  });

  it('truncated, empty, unknown header, not JSON, odd envelopes: all BATCH_UNREADABLE', () => {
    const good = encodeBatchPayload('gw', [JSON.stringify({ id: 'x', seq: 1 })], 'deflate');
    for (let n = 1; n < good.length; n++) expect(() => decodeBatchPayload(good.subarray(0, n))).toThrow();
    expect(() => decodeBatchPayload(Buffer.alloc(0))).toThrow(/empty/);
    expect(() => decodeBatchPayload(Buffer.from([9, 1, 2]))).toThrow(/header/);
    expect(() => decodeBatchPayload(withHeader(0, Buffer.from('[1,2]')))).toThrow(/not a v2/);
    expect(() =>
      decodeBatchPayload(
        withHeader(
          0,
          Buffer.from(
            '{"v":2,"gatewayId":"g","groups":[{"bootId":"b","deviceId":"d","type":"t","priority":"p","clockSynced":true,"events":[[1,1e300,0,"",{}]]}]}',
          ),
        ),
      ),
    ).toThrow();
    expect(() => eventsOfMessage('batch', withHeader(0, Buffer.from('\xff\xfe', 'latin1')))).toThrow(/UTF-8/);
  });

  it('amplification: a small payload may expand into a bounded number of events', () => {
    const one = '[1,0,0,"",{}],';
    const n = Math.floor((15 * 1024 * 1024) / one.length);
    const json = `{"v":2,"gatewayId":"g","groups":[{"bootId":"b","deviceId":"d","type":"t","priority":"normal","clockSynced":true,"events":[${one.repeat(n - 1)}[1,0,0,"",{}]]}]}`;
    const payload = withHeader(1, deflateRawSync(Buffer.from(json), { level: 9 }));
    const heap0 = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    let events = 0;
    try {
      events = decodeBatchPayload(payload).length;
    } catch (err) {
      console.log('refused:', (err as Error).message);
    }
    const ms = performance.now() - t0;
    console.log({
      payloadBytes: payload.length,
      events,
      ms: Math.round(ms),
      heapMB: Math.round((process.memoryUsage().heapUsed - heap0) / 1e6),
    });
    expect(events, `${payload.length} bytes on the wire decoded into ${events} events`).toBeLessThan(100_000);
  });

  it('seq deltas that sum past 2^53 are refused rather than returned imprecise', () => {
    const json = `{"v":2,"gatewayId":"g","groups":[{"bootId":"b","deviceId":"d","type":"t","priority":"normal","clockSynced":true,"events":[[9007199254740991,0,0,"x",{}],[9007199254740991,0,0,"y",{}]]}]}`;
    let out: unknown[] = [];
    try {
      out = decodeBatchPayload(withHeader(0, Buffer.from(json)));
    } catch {
      return;
    }
    expect(Number.isSafeInteger((out[1] as { seq: number }).seq), `seq ${(out[1] as { seq: number }).seq}`).toBe(true);
  });
});
