/**
 * The channel's framing (core/contracts/frames.ts) on bytes as a hostile child would write
 * them: a header announcing more than the limit fails before any of the body is kept; frames
 * split anywhere (one byte at a time, header across chunks) or packed several to a chunk come
 * out whole and in order; a body that is not JSON fails; after a failure nothing more is taken.
 * And ChildChannel over a real socket pair: an oversized header ends the connection.
 */
import { createServer, connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FrameError, FrameReader, MAX_FRAME_FROM_CHILD, encodeFrame } from '../../core/contracts/frames.js';
import { ChildChannel } from '../../agent/nodered/channel.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();

const header = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

describe('frames', () => {
  it('refuses a header over the limit before keeping any of its body', () => {
    const r = new FrameReader(1024);
    expect(() => r.push(Buffer.concat([header(30 * 1024 * 1024), Buffer.alloc(10, 1)]))).toThrow(FrameError);
    expect(r.buffered).toBe(0);
    // Nothing more is taken after a failure, even a good frame.
    expect(() => r.push(encodeFrame({ t: 'x' }, 1024))).toThrow(/over the limit/);
  });

  it('refuses a header over the limit that arrives one byte at a time', () => {
    const r = new FrameReader(MAX_FRAME_FROM_CHILD);
    const h = header(MAX_FRAME_FROM_CHILD + 1);
    for (let i = 0; i < 3; i++) expect(r.push(h.subarray(i, i + 1))).toEqual([]);
    expect(() => r.push(h.subarray(3))).toThrow(
      expect.objectContaining({ code: 'CHANNEL_FRAME', reason: 'oversized' }),
    );
  });

  it('takes a frame of exactly the limit', () => {
    const m = { t: 'log', msg: 'x'.repeat(100) };
    const f = encodeFrame(m, 1024);
    const r = new FrameReader(f.length - 4);
    expect(r.push(f)).toEqual([m]);
  });

  it('puts frames split anywhere back together, in order', () => {
    const msgs = [{ t: 'a', n: 1 }, { t: 'b', s: 'é€😀'.repeat(50) }, { t: 'c' }, []];
    const bytes = Buffer.concat(msgs.map((m) => encodeFrame(m, 4096)));
    const oneByOne = new FrameReader(4096);
    const out: unknown[] = [];
    for (let i = 0; i < bytes.length; i++) out.push(...oneByOne.push(bytes.subarray(i, i + 1)));
    expect(out).toEqual(msgs);
    expect(new FrameReader(4096).push(bytes)).toEqual(msgs); // all in one chunk
    const halves = new FrameReader(4096);
    expect([...halves.push(bytes.subarray(0, 7)), ...halves.push(bytes.subarray(7))]).toEqual(msgs);
  });

  it('refuses a body that is not JSON, and a message too big to encode', () => {
    const r = new FrameReader(1024);
    const junk = Buffer.from('{"t": nope');
    expect(() => r.push(Buffer.concat([header(junk.length), junk]))).toThrow(
      expect.objectContaining({ reason: 'garbage' }),
    );
    expect(() => encodeFrame({ s: 'x'.repeat(2000) }, 1024)).toThrow(expect.objectContaining({ reason: 'oversized' }));
    expect(() => encodeFrame(undefined, 1024)).toThrow(expect.objectContaining({ reason: 'garbage' }));
  });

  it('an oversized header ends the connection at once; garbage, then; a forged message is only counted', async () => {
    const path = join(tempDir(), 's.sock');
    const accepted: Socket[] = [];
    const server = createServer((s) => accepted.push(s));
    await new Promise<void>((r) => server.listen(path, r));
    cleanup(() => server.close());
    const open = async () => {
      const client = connect(path);
      client.on('error', () => {});
      cleanup(() => client.destroy());
      await waitUntil(() => accepted.length > 0, 5000, 'the connection');
      const seen = { messages: [] as unknown[], malformed: 0, violations: [] as string[], closed: false };
      new ChildChannel(accepted.shift()!, {
        onMessage: (m) => seen.messages.push(m),
        onMalformed: () => (seen.malformed += 1),
        onViolation: (e) => seen.violations.push(e.reason),
        onClose: () => (seen.closed = true),
        onDrain: () => {},
      });
      return { client, seen };
    };

    const a = await open();
    a.client.write(encodeFrame({ t: 'log', level: 'info', msg: 'hi' }, 1024));
    a.client.write(encodeFrame({ t: 'ready', url: 5 }, 1024)); // fails isFromChild
    await waitUntil(() => a.seen.messages.length === 1 && a.seen.malformed === 1, 5000, 'both frames read');
    // A 30 MB frame's header, then its body streaming: the agent stops at the header.
    a.client.write(header(30 * 1024 * 1024));
    a.client.write(Buffer.alloc(1024 * 1024, 0x61));
    await waitUntil(() => a.seen.closed, 5000, 'the connection dropped');
    expect(a.seen.violations).toEqual(['oversized']);

    const b = await open();
    b.client.write(Buffer.concat([header(5), Buffer.from('\x00\x01{{x')]));
    await waitUntil(() => b.seen.closed, 5000, 'the connection dropped');
    expect(b.seen.violations).toEqual(['garbage']);
  });
});
