/**
 * The camera pictures' store (agent/media/media-store.ts): only whole JPEGs, crash-safe files
 * that are their own index, a byte cap that pushes out non-alarm pictures first and never an
 * alarm's for a non-alarm one, an age limit for privacy, and no picture while the outbox's
 * disk reserve is out or when it would take the card's last free room (a real tmpfs, as root).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MediaStore } from '../../agent/media/media-store.js';
import { mediaSchema, type MediaConfig } from '../../config/schema/media.js';
import { JumpingClock } from '../helpers/jumping-clock.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { fillCard, mountSmallCard } from '../helpers/small-card.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();
const JPEG = readFileSync(new URL('../fixtures/gate-camera.jpg', import.meta.url));
const KB = 1024;

/** A JPEG of about `bytes` (the fixture with padding inside a COM segment; still a whole JPEG). */
function jpegOf(bytes: number): Buffer {
  const pad = Math.max(0, bytes - JPEG.length - 4);
  const segments: Buffer[] = [JPEG.subarray(0, 2)];
  for (let left = pad; left > 0; left -= 65533) {
    const n = Math.min(left, 65533);
    segments.push(Buffer.from([0xff, 0xfe, (n + 2) >> 8, (n + 2) & 0xff]), Buffer.alloc(n, 0x20));
  }
  return Buffer.concat([...segments, JPEG.subarray(2)]);
}

function store(
  o: {
    dir?: string;
    config?: Partial<MediaConfig>;
    held?: () => boolean;
    clock?: JumpingClock;
    sent?: (id: string) => boolean;
  } = {},
) {
  const clock = o.clock ?? new JumpingClock();
  const config = mediaSchema.parse({ minFreeBytes: 0, ...o.config });
  const dir = o.dir ?? join(tempDir(), 'media');
  const ports = { dir, config, clock, reserveHeld: o.held ?? (() => true), ...(o.sent ? { sent: o.sent } : {}) };
  return { s: new MediaStore(ports), dir, clock };
}

describe('the media store', () => {
  it('stores a whole JPEG crash-safe, names it by id, size and sha256, and finds it again after a restart', async () => {
    const { s, dir } = store();
    const pic = await s.put(JPEG, { cameraId: 'gate-cam', alarm: true });
    expect(pic).toMatchObject({ cameraId: 'gate-cam', alarm: true, bytes: JPEG.length });
    expect(pic.sha256).toBe(createHash('sha256').update(JPEG).digest('hex'));
    expect(await s.read(pic.id)).toEqual(JPEG);
    writeFileSync(join(dir, `.tmp-${'0'.repeat(8)}`), JPEG.subarray(0, 100)); // a power cut mid-write
    writeFileSync(join(dir, 'notes.txt'), 'a technician left this');
    const again = store({ dir }).s;
    expect(again.list()).toEqual([
      { id: pic.id, cameraId: 'gate-cam', alarm: true, bytes: JPEG.length, takenAt: pic.takenAt },
    ]);
    expect(readdirSync(dir).sort()).toEqual([expect.stringMatching(/\.a\..*\.gate-cam\.jpg$/), 'notes.txt']);
    await expect(again.read('nope')).rejects.toMatchObject({ code: 'MEDIA_NOT_FOUND' });
  });

  it('refuses what is not a whole JPEG, and a picture over maxPictureBytes, storing nothing', async () => {
    const { s, dir } = store({ config: { maxPictureBytes: 64 * KB } });
    const html = Buffer.from(`<html><body>401 Unauthorized${' '.repeat(200)}</body></html>`);
    await expect(s.put(html, { cameraId: 'c', alarm: true })).rejects.toMatchObject({
      code: 'MEDIA_REFUSED',
      message: expect.stringContaining('no JPEG start marker (starts "<html><body>401 "'),
    });
    await expect(s.put(JPEG.subarray(0, 5000), { cameraId: 'c', alarm: true })).rejects.toThrow(/cut off/);
    await expect(s.put(jpegOf(100 * KB), { cameraId: 'c', alarm: true })).rejects.toThrow(/over media.maxPictureBytes/);
    expect(readdirSync(dir)).toEqual([]);
    expect(s.counts.refused).toBe(3);
  });

  it('keeps under maxBytes: non-alarm pictures go first, oldest first; a non-alarm picture never pushes out an alarm one', async () => {
    const { s, clock } = store({ config: { maxBytes: 1024 * KB } });
    const put = (alarm: boolean) => {
      clock.elapse(1000);
      return s.put(jpegOf(300 * KB), { cameraId: 'gate-cam', alarm });
    };
    const a1 = await put(true);
    const n1 = await put(false);
    const n2 = await put(false);
    const a2 = await put(true); // 4 x 300 KB > 1 MiB: the oldest non-alarm one goes
    expect(s.list().map((p) => p.id)).toEqual([a1.id, n2.id, a2.id]);
    expect(s.get(n1.id)).toBeUndefined();
    const a3 = await put(true);
    expect(s.list().map((p) => p.id)).toEqual([a1.id, a2.id, a3.id]);
    await expect(put(false)).rejects.toMatchObject({ code: 'MEDIA_NO_ROOM' }); // only alarm pictures left
    const a4 = await put(true); // an alarm picture may push out the oldest alarm picture
    expect(s.list().map((p) => p.id)).toEqual([a2.id, a3.id, a4.id]);
    expect(s.usedBytes).toBeLessThanOrEqual(1024 * KB);
    expect(s.counts.evicted).toBe(3);
  });

  it('an alarm picture pushes out an older alarm picture the county already has before one it has never seen', async () => {
    const sentToCounty = new Set<string>();
    const { s, clock } = store({ config: { maxBytes: 1024 * KB }, sent: (id) => sentToCounty.has(id) });
    const put = () => {
      clock.elapse(1000);
      return s.put(jpegOf(300 * KB), { cameraId: 'gate-cam', alarm: true });
    };
    const a1 = await put();
    const a2 = await put();
    const a3 = await put();
    sentToCounty.add(a2.id); // the county has a2 whole; a1, the oldest, it has never seen
    const a4 = await put();
    expect(s.list().map((p) => p.id)).toEqual([a1.id, a3.id, a4.id]);
    const a5 = await put(); // none sent: the oldest goes
    expect(s.list().map((p) => p.id)).toEqual([a3.id, a4.id, a5.id]);
  });

  it('keeps no picture past maxAgeDays, alarm pictures included', async () => {
    const { s, clock, dir } = store({ config: { maxAgeDays: 2 } });
    await s.put(JPEG, { cameraId: 'gate-cam', alarm: true });
    clock.elapse(86_400_000);
    const young = await s.put(JPEG, { cameraId: 'gate-cam', alarm: false });
    clock.elapse(86_400_000 + 1);
    expect(s.expire()).toBe(1);
    expect(s.list()).toEqual([expect.objectContaining({ id: young.id })]);
    expect(readdirSync(dir)).toHaveLength(1);
  });

  it("stores nothing while the outbox's disk reserve is out: the room is the alarm events'", async () => {
    let held = false;
    const { s } = store({ held: () => held });
    await expect(s.put(JPEG, { cameraId: 'gate-cam', alarm: true })).rejects.toThrow(/reserve is released/);
    held = true;
    await expect(s.put(JPEG, { cameraId: 'gate-cam', alarm: true })).resolves.toMatchObject({ bytes: JPEG.length });
  });

  it('on a small card: keeps minFreeBytes free, and a write the card refuses leaves no file behind', async () => {
    const card = mountSmallCard(tempDir(), '4m', cleanup);
    const dir = join(card, 'media');
    const { s } = store({ dir, config: { minFreeBytes: 2048 * KB } });
    const first = await s.put(jpegOf(1024 * KB), { cameraId: 'gate-cam', alarm: true }); // ~3 MiB free after it
    await expect(s.put(jpegOf(1536 * KB), { cameraId: 'gate-cam', alarm: false })).rejects.toThrow(
      /less than media.minFreeBytes/,
    );
    expect(s.list().map((p) => p.id)).toEqual([first.id]);
    const alarm = await s.put(jpegOf(1536 * KB), { cameraId: 'gate-cam', alarm: true }); // pushes out the older alarm picture
    expect(s.list().map((p) => p.id)).toEqual([alarm.id]);

    // Another writer (the outbox, a log) takes the card while the picture is on its way: the
    // card refuses the write, and neither the picture nor its temp file is left.
    const bare = store({ dir, config: { minFreeBytes: 0 } }).s;
    const writing = bare.put(jpegOf(512 * KB), { cameraId: 'gate-cam', alarm: true });
    const filler = fillCard(card);
    await expect(writing).rejects.toMatchObject({ code: 'MEDIA_NO_ROOM', message: expect.stringMatching(/ENOSPC/) });
    expect(readdirSync(dir).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    expect(bare.list()).toHaveLength(1);
    rmSync(filler);
  });

  it('a folder it cannot open keeps no one from starting: pictures are refused with the reason, and taken once it can', async () => {
    const parent = tempDir();
    const dir = join(parent, 'media');
    writeFileSync(dir, 'a file where the folder should be'); // a broken card, a technician's mistake
    const { s } = store({ dir });
    expect(s.problem).toMatch(/EEXIST|ENOTDIR/);
    await expect(s.put(JPEG, { cameraId: 'gate-cam', alarm: true })).rejects.toMatchObject({
      code: 'MEDIA_NO_ROOM',
      message: expect.stringMatching(/media: (EEXIST|ENOTDIR)/),
    });
    rmSync(dir);
    await expect(s.put(JPEG, { cameraId: 'gate-cam', alarm: true })).resolves.toMatchObject({ bytes: JPEG.length });
    expect(s.problem).toBeNull();
  });
});
