/**
 * Pictures to a real Mosquitto county (agent/media/media-sender.ts as the drain's idle lane):
 * whole and hash-verified, resumed after a cut link from the last acknowledged chunk, overtaken
 * by a panic press after at most one chunk, and held to the policy (mode, daily cap).
 *
 * Order is judged at the county (what arrived before what), not by times: on a loaded machine
 * the times stretch, the order does not.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import { CountySubscriber } from '../../scripts/county-subscriber.js';
import { TcpProxy } from '../../scripts/weak-link/tcp-proxy.js';
import { testConfig } from '../helpers/agent-config.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { arrivalsAt, chunkCopies, jpegOf, sha256 } from '../helpers/pictures.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

const RATE = 8000; // bytes/s each way: 64 kbit/s, a poor EDGE cell

async function county(name: string, pictureDir?: string): Promise<CountySubscriber> {
  const sub = await new CountySubscriber({
    url: brokerRef.current.url,
    clientId: `county-${name}`,
    ...(pictureDir ? { pictureDir } : {}),
  }).start();
  cleanup(() => sub.stop());
  return sub;
}

async function weakLink(): Promise<TcpProxy> {
  const link = await new TcpProxy({ targetPort: Number(new URL(brokerRef.current.url).port) }).start();
  link.delayMs = 50;
  link.rateBytesPerSec = RATE;
  cleanup(() => link.stop());
  return link;
}

async function agentOn(url: string, id: string, upload: Record<string, unknown> = {}, dir = tempDir()): Promise<Agent> {
  const config = testConfig(url, dir, {
    gateway: { id },
    media: { minFreeBytes: 0, upload },
    mqtt: { inflightWindow: 20 },
  });
  const agent = new Agent({ config, configHash: 'test', baseDir: dir, logger: quietLogger() });
  cleanup(() => agent.stop());
  await agent.start();
  return agent;
}

const press = (agent: Agent) =>
  agent.emit({ deviceId: 'btn', type: 'alarm.pressed', priority: 'critical', data: { input: 'in1', active: true } });

describe('pictures to the county', () => {
  it('a stored alarm picture reaches the county whole, its hash verified, and is saved there', async () => {
    const saved = tempDir();
    const sub = await county('whole', saved);
    const agent = await agentOn(brokerRef.current.url, 'gw-pic');
    const jpeg = jpegOf(30_000);
    const stored = await agent.pictures().media.put(jpeg, { cameraId: 'gate', alarm: true });
    await waitUntil(() => sub.pictures.has(stored.id), 30_000, 'the picture at the county');
    const got = sub.pictures.get(stored.id)!;
    expect(sha256(got.bytes)).toBe(sha256(jpeg));
    expect(got.sha256).toBe(stored.sha256);
    expect(got.cameraId).toBe('gate');
    expect(readFileSync(join(saved, `gw-pic-${stored.id}.jpg`)).equals(jpeg)).toBe(true);
    // Marked sent, kept by the store for its age.
    await waitUntil(() => agent.pictures().mediaSender.pending() === 0, 5000, 'the picture marked sent');
    expect(agent.pictures().media.get(stored.id)).toBeDefined();
  });

  it('stop() returns only once the upload state is on disk (nothing writes to the data folder after it)', async () => {
    const agent = await agentOn(brokerRef.current.url, 'gw-stop');
    const sender = agent.pictures().mediaSender;
    let saved = false;
    // A save still on its way at stop (a slow card): stop must wait for it, within its limit.
    sender.flushed = () => new Promise<void>((r) => setTimeout(() => r(void (saved = true)), 300));
    await agent.stop();
    expect(saved, 'stop() waited for the upload state').toBe(true);
  });

  it('a link cut mid-upload resumes from the last acknowledged chunk', { timeout: 120_000 }, async () => {
    const sub = await county('cut');
    const log = arrivalsAt(sub);
    const link = await weakLink();
    const agent = await agentOn(link.url, 'gw-cut', { chunkBytes: 2048 });
    const jpeg = jpegOf(60_000);
    const { id } = await agent.pictures().media.put(jpeg, { cameraId: 'gate', alarm: true });
    const n = Math.ceil(jpeg.length / 2048);
    await waitUntil(() => chunkCopies(log, id).size >= 8, 60_000, 'eight chunks at the county');
    link.cut();
    await new Promise((r) => setTimeout(r, 1000));
    expect(sub.pictures.has(id), 'the cut came mid-upload').toBe(false);
    link.restore();
    await waitUntil(() => sub.pictures.has(id), 90_000, 'the picture whole after the cut');
    expect(sha256(sub.pictures.get(id)!.bytes)).toBe(sha256(jpeg));
    const copies = chunkCopies(log, id);
    expect(copies.size).toBe(n);
    expect(Math.max(...copies.values()), 'no chunk came more than twice').toBeLessThanOrEqual(2);
    // Resumed, not restarted: only what was on the wire at the cut came again.
    const again = [...copies.values()].filter((c) => c > 1).length;
    expect(again, `chunks sent twice: ${again} of ${n}`).toBeLessThanOrEqual(2);
  });

  it('a panic pressed mid-upload reaches the county before the rest of the picture', { timeout: 120_000 }, async () => {
    const sub = await county('panic');
    const log = arrivalsAt(sub);
    const link = await weakLink();
    const agent = await agentOn(link.url, 'gw-panic');
    const jpeg = jpegOf(60_000);
    const { id } = await agent.pictures().media.put(jpeg, { cameraId: 'gate', alarm: true });
    await waitUntil(() => chunkCopies(log, id).size >= 3, 60_000, 'three chunks at the county');
    log.push('press');
    const alarm = await press(agent);
    await waitUntil(() => sub.events.has(alarm.id), 30_000, 'the alarm at the county');
    await waitUntil(() => sub.pictures.has(id), 60_000, 'the picture whole');
    const pressedAt = log.indexOf('press');
    const alarmAt = log.indexOf(`event alarm.pressed ${alarm.id}`);
    const between = log.slice(pressedAt, alarmAt).filter((l) => l.startsWith(`chunk ${id}`));
    // The chunk on the wire when the alarm was stored, and at most one sent while it committed.
    expect(between.length, `chunks between the press and the alarm: ${between.join(', ')}`).toBeLessThanOrEqual(2);
    const after = log.slice(alarmAt).filter((l) => l.startsWith(`chunk ${id}`));
    expect(after.length, 'the rest of the picture came after the alarm').toBeGreaterThan(3);
  });

  it('a picture goes while telemetry lingers for its batch: readings that never stop do not hold it back', async () => {
    const sub = await county('linger');
    const dir = tempDir();
    const config = testConfig(brokerRef.current.url, dir, {
      gateway: { id: 'gw-linger' },
      media: { minFreeBytes: 0 },
      mqtt: { wire: { format: 'compact', lingerMs: 60_000 } },
    });
    const agent = new Agent({ config, configHash: 'test', baseDir: dir, logger: quietLogger() });
    cleanup(() => agent.stop());
    await agent.start();
    // A reading every 100 ms: some telemetry is always waiting for its batch (full at batch.maxEvents, 10 s on).
    let n = 0;
    const readings = setInterval(
      () => void agent.emit({ deviceId: 'meter', type: 'sensor.telemetry', priority: 'normal', data: { n: n++ } }),
      100,
    );
    cleanup(() => clearInterval(readings));
    await waitUntil(() => n > 5, 5000, 'readings flowing');
    const stored = await agent.pictures().media.put(jpegOf(20_000), { cameraId: 'gate', alarm: true });
    let telemetryFirst = -1;
    sub.on(
      'picture',
      () => (telemetryFirst = [...sub.events.values()].filter((e) => e.type === 'sensor.telemetry').length),
    );
    await waitUntil(() => sub.pictures.has(stored.id), 20_000, 'the picture at the county while readings linger');
    // Whole before any reading's batch went: it did not wait for the readings to stop lingering.
    expect(telemetryFirst).toBe(0);
  });

  it('mode off sends no picture; auto sends alarm pictures only', async () => {
    const sub = await county('modes');
    const log = arrivalsAt(sub);
    const off = await agentOn(brokerRef.current.url, 'gw-off', { mode: 'off' });
    const auto = await agentOn(brokerRef.current.url, 'gw-auto');
    await off.pictures().media.put(jpegOf(20_000), { cameraId: 'gate', alarm: true });
    const plain = await auto.pictures().media.put(jpegOf(20_000), { cameraId: 'gate', alarm: false });
    const alarmPic = await auto.pictures().media.put(jpegOf(20_000), { cameraId: 'gate', alarm: true });
    await waitUntil(() => sub.pictures.has(alarmPic.id), 30_000, "the auto gateway's alarm picture");
    // Events still flow from both; after them, still no chunk of the others.
    const marks = await Promise.all([off, auto].map((a) => press(a)));
    await waitUntil(() => marks.every((m) => sub.events.has(m.id)), 30_000, 'both presses at the county');
    await new Promise((r) => setTimeout(r, 1000));
    expect(log.filter((l) => l.startsWith('chunk')).every((l) => l.startsWith(`chunk ${alarmPic.id}`))).toBe(true);
    expect(chunkCopies(log, plain.id).size).toBe(0);
    expect(off.pictures().mediaSender.pending()).toBe(0);
    expect(auto.pictures().mediaSender.pending()).toBe(0);
  });

  it('the daily byte cap holds, across a restart too', async () => {
    const sub = await county('cap');
    const log = arrivalsAt(sub);
    const cap = 10_000; // two 4 KiB chunks and their headers, not a third
    const dir = tempDir();
    const first = await agentOn(brokerRef.current.url, 'gw-cap', { maxBytesPerDay: cap }, dir);
    const { id } = await first.pictures().media.put(jpegOf(30_000), { cameraId: 'gate', alarm: true });
    await waitUntil(() => chunkCopies(log, id).size >= 2, 30_000, 'two chunks at the county');
    await first.pictures().mediaSender.flushed();
    await first.stop();
    // The day's count is in the state file: a restarted agent does not start the day again.
    const agent = await agentOn(brokerRef.current.url, 'gw-cap', { maxBytesPerDay: cap }, dir);
    const mark = await press(agent);
    await waitUntil(() => sub.events.has(mark.id), 30_000, 'a press after them');
    await new Promise((r) => setTimeout(r, 1000));
    expect(chunkCopies(log, id).size).toBe(2);
    expect(sub.pictures.has(id)).toBe(false);
    const sender = agent.pictures().mediaSender;
    expect(sender.dayBytes).toBeLessThanOrEqual(cap);
    expect(sender.pending()).toBe(1); // it goes on tomorrow
    expect(agent.observe.status()['media']).toMatchObject({ stored: 1, pendingUpload: 1, mode: 'auto' });
  });

  it('a picture the county asks for goes past the daily cap and past the mode, and again whole if it was sent', async () => {
    const sub = await county('asked');
    const log = arrivalsAt(sub);
    const cap = 10_000;
    const agent = await agentOn(brokerRef.current.url, 'gw-asked', { mode: 'on-request', maxBytesPerDay: cap });
    const sender = agent.pictures().mediaSender;
    const media = agent.pictures().media;
    const big = await media.put(jpegOf(30_000), { cameraId: 'gate', alarm: true });
    sender.request(big.id);
    await waitUntil(() => sub.pictures.has(big.id), 30_000, 'the asked picture whole, over the cap');
    expect(sender.dayBytes).toBeGreaterThan(cap); // counted all the same
    // Not asked for: under on-request it waits, and the day's cap is spent anyway.
    const other = await media.put(jpegOf(20_000), { cameraId: 'gate', alarm: true });
    const mark = await press(agent);
    await waitUntil(() => sub.events.has(mark.id), 30_000, 'a press after it');
    await new Promise((r) => setTimeout(r, 500)); // an absence: only waiting shows it
    expect(chunkCopies(log, other.id).size).toBe(0);
    // Asked again (the county lost its copy): it goes again from its first chunk.
    const before = chunkCopies(log, big.id);
    sender.request(big.id);
    await waitUntil(
      () => [...chunkCopies(log, big.id)].every(([i, n]) => n === (before.get(i) ?? 0) + 1),
      30_000,
      'every chunk of it once more',
    );
    expect(chunkCopies(log, other.id).size).toBe(0);
    await sender.flushed(); // before the folder goes
  });
});
