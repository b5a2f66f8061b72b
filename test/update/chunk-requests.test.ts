/**
 * The update's request lane (agent/update/chunk-requests.ts) on its own, driven as the drain
 * drives it (peek, sent, linkChanged) with answers as the update server encodes them: a lost link
 * asks again without spending a try, only silences do; an answer carrying more bytes than asked
 * is ignored; an error answer for the request outstanding ends it with the server's code.
 */
import { describe, expect, it } from 'vitest';
import { ChunkRequests } from '../../agent/update/chunk-requests.js';
import { encodeUpdateChunk, type UpdateRequest } from '../../core/contracts/update-chunk.js';
import { quietLogger } from '../helpers/quiet-logger.js';

const REQ: UpdateRequest = { v: 1, version: '9.9.9', path: 'lib/a.bin', o: 0, len: 4 };

/** The drain's part: whatever the lane offers goes on the wire at once. */
function send(lane: ChunkRequests): boolean {
  const msg = lane.peek();
  if (!msg) return false;
  msg.sent();
  msg.settle(undefined);
  return true;
}

describe('the update request lane', () => {
  it('a lost link asks again without spending a try; four silences end it', async () => {
    const lane = new ChunkRequests('village/gw/update/request', quietLogger());
    lane.onReady(() => void send(lane));
    lane.linkChanged(true);
    const started = Date.now();
    const asked = lane.ask(REQ, { silenceMs: 100, tries: 4 });
    for (let i = 0; i < 6; i++) {
      lane.linkChanged(false);
      lane.linkChanged(true);
      expect(send(lane)).toBe(true); // asked again on the new link
    }
    await expect(asked).rejects.toMatchObject({
      code: 'UPDATE_UNREACHABLE',
      message: expect.stringContaining('no answer in 4 tries of 100 ms') as string,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(lane.counts.requests).toBe(1 + 6 + 3); // the first, one per new link, one per silence but the last
  });

  it('ignores an answer with more bytes than asked; an error answer ends the request with its code', async () => {
    const lane = new ChunkRequests('village/gw/update/request', quietLogger());
    lane.onReady(() => void send(lane));
    lane.linkChanged(true);
    const asked = lane.ask(REQ, { silenceMs: 5000, tries: 4 });
    const head = { v: 1 as const, version: '9.9.9', path: 'lib/a.bin', o: 0 };
    lane.receive(encodeUpdateChunk({ ...head, size: 10 }, Buffer.from('too many')));
    lane.receive(Buffer.alloc(2000, 'x')); // no header line
    expect(lane.counts).toMatchObject({ ignored: 2, answers: 0 });
    lane.receive(encodeUpdateChunk({ ...head, error: { code: 'NOT_IN_BUNDLE', message: 'not here' } }));
    await expect(asked).rejects.toMatchObject({
      code: 'UPDATE_UNREACHABLE',
      message: expect.stringContaining('NOT_IN_BUNDLE: not here') as string,
    });
    // The next request is answered.
    const next = lane.ask(REQ, { silenceMs: 5000, tries: 4 });
    lane.receive(encodeUpdateChunk({ ...head, size: 4 }, Buffer.from('abcd')));
    expect((await next).data.toString()).toBe('abcd');
  });
});
