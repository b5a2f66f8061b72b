/**
 * The delivery checker's pictures: it puts each picture together from its chunks itself and
 * judges it against the `camera.picture` event that names it. Hostile chunks (out of order,
 * duplicated, a wrong hash, an index past the count, an enormous count) are named in the
 * verdict, never a throw; on hand-made streams, and through the check-delivery CLI on a real
 * broker with a plain MQTT client playing the gateway.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { chunksOf, encodeChunk, type PictureInfo } from '../../core/contracts/media-chunk.js';
import { DeliveryChecker, type Verdict } from '../../scripts/county/delivery-checker.js';
import { verdictLine, verdictReport } from '../../scripts/county/format-verdict.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { CHECK_CLI, Child } from './child.js';
import { handMadeEvents } from './hand-made-events.js';

const brokerRef = useBroker();
const cleanup = useCleanups();

const JPEG = readFileSync(new URL('../fixtures/gate-camera.jpg', import.meta.url));
const GW = 'gw-cam';
const { ev, started } = handMadeEvents(GW);
const idOf = (n: number) => `01938a6e-7c2b-7000-8000-${n.toString(16).padStart(12, '0')}`;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const info = (bytes: Buffer, o: Partial<PictureInfo> = {}): PictureInfo => ({
  size: bytes.length,
  sha256: sha(bytes),
  type: 'image/jpeg',
  cameraId: 'gate-cam',
  eventId: `${GW}-2`,
  takenAt: '2026-12-06T02:13:07.000Z',
  ...o,
});
/** The gateway's `camera.picture` for picture `id` at `seq`. */
const announce = (seq: number, id: string, bytes = JPEG, o: { sha256?: string; size?: number } = {}) =>
  ev(seq, 'camera.picture', {
    picture: {
      id,
      bytes: o.size ?? bytes.length,
      sha256: o.sha256 ?? sha(bytes),
      takenAt: 'x',
      channel: 1,
      alarm: true,
    },
    cause: { event: `${GW}-2`, type: 'camera.intrusion' },
  });
const chunks = (id: string, o: Partial<PictureInfo> = {}) => chunksOf(id, JPEG, info(JPEG, o), 2048);

/** The hostile pictures, each with what the verdict must say of it. */
function hostile() {
  const good = chunks(idOf(1));
  const tampered = chunks(idOf(2), { sha256: sha(Buffer.from('another picture')) });
  const pastCount = [
    ...chunks(idOf(3)).slice(0, 2),
    encodeChunk({ v: 1, id: idOf(3), i: 9, n: 5, o: 9 * 2048 }, JPEG.subarray(0, 10)),
  ];
  const enormous = [encodeChunk({ v: 1, id: idOf(4), i: 1, n: 1_000_000_000, o: 2048 }, JPEG.subarray(2048, 4096))];
  const huge = [encodeChunk({ v: 1, id: idOf(5), i: 7, n: 4096, o: 7 * 2048 }, JPEG.subarray(0, 2048))];
  const stranger = chunks(idOf(6));
  const events = [
    started(1),
    ev(2, 'camera.intrusion', { alarm: true }),
    announce(3, idOf(1)),
    announce(4, idOf(2)),
    announce(5, idOf(3)),
    announce(6, idOf(4)),
    announce(7, idOf(5)),
    announce(8, idOf(7)), // held back by the upload mode: no chunk of it comes
  ];
  // Out of order, each twice; the rest in order.
  const sent: [string, Buffer][] = [
    ...[...good.keys()]
      .reverse()
      .flatMap((i) => [good[i]!, good[i]!])
      .map((c) => [idOf(1), c] as [string, Buffer]),
    ...tampered.map((c) => [idOf(2), c] as [string, Buffer]),
    ...pastCount.map((c) => [idOf(3), c] as [string, Buffer]),
    ...enormous.map((c) => [idOf(4), c] as [string, Buffer]),
    ...huge.map((c) => [idOf(5), c] as [string, Buffer]),
    ...stranger.map((c) => [idOf(6), c] as [string, Buffer]),
  ];
  return { events, sent };
}

function expectHostileVerdict(v: Verdict): void {
  expect(v.pictures).toMatchObject({ announced: 6, whole: 1, strayChunks: 0 });
  expect(v.pictures.notSent).toEqual([expect.stringContaining(idOf(7))]);
  expect(v.pictures.corrupt).toEqual([
    expect.stringMatching(new RegExp(`^${idOf(2)}: sha256 [0-9a-f]{64}, the picture says`)),
    `${idOf(3)}: chunk index 9 of 5`,
    expect.stringMatching(new RegExp(`^${idOf(4)}: header: n `)),
  ]);
  // Picture 3's first chunks came, but a refused chunk names it once, as corrupt.
  expect(v.pictures.incomplete).toEqual([`${idOf(5)} (${GW}): 1 of 4096 chunks`]);
  expect(v.pictures.unannounced).toEqual([`${idOf(6)} (${GW}, ${JPEG.length} bytes)`]);
  expect(v.problems).toEqual([
    expect.stringMatching(/^3 pictures corrupt: /),
    expect.stringMatching(/^1 pictures incomplete: /),
    expect.stringMatching(/^1 pictures never announced by a camera.picture event: /),
  ]);
  expect(v.ok).toBe(false);
}

describe('delivery checker: pictures on hand-made streams', () => {
  it('a picture out of order, each chunk twice, its event after it: whole, and the verdict says so', () => {
    const c = new DeliveryChecker();
    const list = chunks(idOf(1));
    for (const i of [...list.keys()].reverse()) for (const _ of [1, 2]) c.chunk(GW, idOf(1), list[i]!);
    for (const e of [started(1), ev(2, 'camera.intrusion'), announce(3, idOf(1))]) c.receive(e);
    const v = c.verdict();
    expect(v.problems).toEqual([]);
    expect(v.pictures).toMatchObject({ announced: 1, whole: 1, notSent: [], incomplete: [], corrupt: [] });
    expect(verdictLine(v)).toMatch(/0 duplicates \(identical\); 1 picture whole \(sha256 ok\)$/);
    expect(verdictReport(v)).toContain('pictures 1 announced; 1 whole (sha256 and size as announced); 0 announced');
    // A gateway without cameras: no pictures line at all.
    const plain = new DeliveryChecker();
    plain.receive(started(1));
    expect(verdictReport(plain.verdict())).not.toContain('\npictures ');
    expect(verdictLine(plain.verdict())).not.toContain('picture');
  });

  it('hostile chunks: a wrong hash, an index past the count, an enormous count, a missing rest, a stranger', () => {
    const { events, sent } = hostile();
    const c = new DeliveryChecker();
    for (const e of events) c.receive(e);
    for (const [id, payload] of sent) expect(() => c.chunk(GW, id, payload)).not.toThrow();
    expectHostileVerdict(c.verdict());
  });

  it('a whole picture that is not the one its event announced is corrupt', () => {
    const c = new DeliveryChecker();
    for (const e of [started(1), announce(2, idOf(1), JPEG, { sha256: sha(Buffer.from('x')) })]) c.receive(e);
    for (const ch of chunks(idOf(1))) c.chunk(GW, idOf(1), ch);
    const v = c.verdict();
    expect(v.pictures.whole).toBe(0);
    expect(v.problems).toEqual([
      expect.stringMatching(new RegExp(`^1 pictures corrupt: ${idOf(1)}: put together ${JPEG.length} bytes`)),
    ]);
  });

  it('an announced picture with no chunk is held back by the upload mode, unless pictures are required', () => {
    for (const picturesRequired of [false, true]) {
      const c = new DeliveryChecker({ picturesRequired });
      for (const e of [started(1), announce(2, idOf(1))]) c.receive(e);
      const v = c.verdict();
      expect(v.pictures.notSent).toEqual([`${idOf(1)} (${GW} meter, camera.picture ${GW}-2)`]);
      expect(v.ok).toBe(!picturesRequired);
      if (!picturesRequired)
        expect(verdictLine(v)).toContain('0 pictures whole (sha256 ok), 1 announced not sent (upload mode)');
    }
  });

  it('any order, any duplicates, the event before or after: whole, no problem (property)', () => {
    const list = chunks(idOf(1));
    const all = [...list.keys()];
    fc.assert(
      fc.property(
        fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }),
        fc.array(fc.nat(all.length - 1), { maxLength: 20 }),
        fc.nat(),
        (order, again, at) => {
          // Every chunk in a shuffled order, some again right after others, the announcement anywhere.
          const sent = order.flatMap((i, k) => (again[k] === undefined ? [i] : [i, again[k]]));
          const eventAt = at % (sent.length + 1);
          const c = new DeliveryChecker();
          c.receive(started(1));
          sent.forEach((i, k) => {
            if (k === eventAt) c.receive(announce(2, idOf(1)));
            c.chunk(GW, idOf(1), list[i]!);
          });
          if (eventAt === sent.length) c.receive(announce(2, idOf(1)));
          const v = c.verdict();
          expect(v.problems).toEqual([]);
          expect(v.pictures).toMatchObject({ announced: 1, whole: 1 });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a chunk whose topic and header name no picture is counted, not a throw', () => {
    const c = new DeliveryChecker();
    c.receive(started(1));
    c.chunk(GW, null, Buffer.from('no header line at all'));
    expect(c.verdict().problems).toEqual(['1 picture chunks name no picture']);
  });
});

describe('check-delivery --url: pictures on a real broker', () => {
  it('names the hostile pictures a fake gateway publishes, and exits 1', async () => {
    const cli = new Child(CHECK_CLI, ['--url', brokerRef.current.url, '--json']);
    cleanup(() => cli.dispose());
    await cli.waitFor(/listening on .*media/);
    const gw = await mqtt.connectAsync(brokerRef.current.url, { clientId: 'fake-camera-gateway' });
    cleanup(() => gw.endAsync());
    const { events, sent } = hostile();
    for (const e of events) await gw.publishAsync(`village/${GW}/events`, JSON.stringify(e), { qos: 1 });
    for (const [id, payload] of sent) await gw.publishAsync(`village/${GW}/media/${id}`, payload, { qos: 1 });
    await cli.waitFor((ch) => new RegExp(`received 8 distinct .* ${sent.length} picture chunks`).test(ch.stderr));
    cli.signal('SIGINT');
    expect(await cli.exited, cli.stderr).toBe(1);
    const v = JSON.parse(cli.stdout) as Verdict;
    expectHostileVerdict(v);
    expect(v.unreadable).toBe(0); // a refused chunk is the picture verdict's, not an unknown message
  });
});
