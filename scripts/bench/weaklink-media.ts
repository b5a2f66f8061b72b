/**
 * Pictures over a weak link (issue 19, item 4), on edge-2g with the village's telemetry, one
 * simulated camera in the agent's config, its pictures ~45 KB:
 *
 * - weaklink.alarm.p95.media: panic presses while the camera makes an alarm picture every
 *   PICTURE_EVERY_MS and the agent uploads them, against weaklink.alarm.p95.steady (the same
 *   presses without pictures, same run); goal ratio <= 1.3 (issue 21: alarms at steady speed while
 *   pictures upload; issue 19 had asked 1.5).
 * - weaklink.media.delivery: DELIVERY alarm pictures taken at once (the uploads before them
 *   done), from the first alarm until the last picture is whole at the county, against the
 *   link's raw time for their bytes (bytes / rate + delay). The note says how many pictures a day
 *   the link carries at that pace (telemetry going too).
 *
 * `npm run bench -- --only weaklink-media` runs the steady presses and these; the weaklink group
 * runs these after its own rows, against its steady presses.
 */
import type { Agent } from '../../agent/agent.js';
import type { GatewayEvent } from '../../core/contracts/event.js';
import { Mosquitto, mosquittoPath } from '../brokers/mosquitto.js';
import { CountySubscriber } from '../county-subscriber.js';
import { CameraFleet } from './camera-fleet.js';
import { until } from './fixtures.js';
import { result, type BenchResult } from './result.js';
import { close, p95, pressAlarms, rig, startTelemetry, steadyPresses, steadyRow } from './weaklink-rig.js';

const PICTURE_BYTES = 45 * 1024;
const PICTURE_EVERY_MS = 5000;
const DELIVERY = 10;
const FIRST_CHUNK_MS = 60_000;
const CATCH_UP_MS = 180_000;
const DELIVERY_MAX_MS = 240_000;

/** Whether `cond` held within `ms` (a row reports a shortfall instead of ending the whole run). */
async function within(cond: () => boolean, ms: number): Promise<boolean> {
  try {
    await until(cond, ms, '');
    return true;
  } catch {
    return false;
  }
}

/** Pictures committed as camera.picture: the alarm (by region) -> the picture id. */
function pictureWatch(agent: Agent): Map<string, string> {
  const alarmRegion = new Map<string, string>();
  const pictureOf = new Map<string, string>();
  agent.observe.onStored((events: GatewayEvent[]) => {
    for (const e of events) {
      const d = e.data as { region?: string; picture?: { id: string }; cause?: { event?: string } };
      if (e.type === 'camera.intrusion' && d.region) alarmRegion.set(e.id, d.region);
      const region = alarmRegion.get(d.cause?.event ?? '');
      if (e.type === 'camera.picture' && d.picture && region) pictureOf.set(region, d.picture.id);
    }
  });
  return pictureOf;
}

/** The media rows against `steadyP95` (weaklink.alarm.p95.steady, measured in the same run). */
export async function mediaRows(brokerPort: number, sub: CountySubscriber, steadyP95: number): Promise<BenchResult[]> {
  const fleet = await CameraFleet.start(1, PICTURE_BYTES);
  const r = await rig(brokerPort, 'edge-2g', 'wl-media', fleet.devices());
  const pictureOf = pictureWatch(r.agent);
  const sender = () => r.agent.pictures().mediaSender;
  let shots = 0;
  const camera = setInterval(() => fleet.intrusion(0, `media-${shots++}`), PICTURE_EVERY_MS);
  try {
    await r.agent.start();
    await until(() => r.agent.observe.link().up && fleet.allStreaming, 60_000, 'the uplink and the camera');
    startTelemetry(r);
    fleet.intrusion(0, `media-${shots++}`);
    // Presses begin once a picture is on its way up, or after FIRST_CHUNK_MS without one (the note says so).
    const firstChunk = await within(() => sender().counts.chunks > 0, FIRST_CHUNK_MS);
    const c0 = { ...sender().counts };
    const mediaMs = await pressAlarms(r, sub, () => true);
    const during = { chunks: sender().counts.chunks - c0.chunks, pictures: sender().counts.pictures - c0.pictures };
    clearInterval(camera);

    // The pictures before are up (or the row would time the backlog), then DELIVERY at once.
    // A lane that sent nothing in FIRST_CHUNK_MS will not catch up now: the delivery is timed at once.
    const caughtUp = firstChunk && (await within(() => sender().pending() === 0, CATCH_UP_MS));
    const arrivedAt = new Map<string, number>();
    const onPicture = (p: { id: string }) => arrivedAt.set(p.id, Date.now());
    sub.on('picture', onPicture);
    const bytes0 = r.link.stats().up.forwardedBytes;
    const t0 = Date.now();
    for (let i = 0; i < DELIVERY; i++) fleet.intrusion(0, `delivery-${i}`);
    const whole = () =>
      Array.from({ length: DELIVERY }, (_, i) => pictureOf.get(`delivery-${i}`)).every(
        (id) => id !== undefined && sub.pictures.has(id),
      );
    const delivered = await within(whole, DELIVERY_MAX_MS);
    sub.off('picture', onPicture);
    const deliveryMs = delivered ? Math.max(...arrivedAt.values()) - t0 : Date.now() - t0;
    const shortfall = delivered
      ? ''
      : `; NOT DELIVERED: ${arrivedAt.size} of ${DELIVERY} whole after ${DELIVERY_MAX_MS / 1000} s (value = the wait)`;
    const starved = firstChunk ? '' : `; NO picture chunk went up in the first ${FIRST_CHUNK_MS / 1000} s`;
    const behind = caughtUp ? '' : `; ${sender().pending()} earlier pictures still pending at the start`;
    const wireBytes = r.link.stats().up.forwardedBytes - bytes0;
    const picBytes = DELIVERY * fleet.cameras[0]!.sim.snapshots.jpeg.length;
    const rawMs = r.link.rawLinkMs(picBytes);
    const perDay = Math.floor((86_400_000 / deliveryMs) * DELIVERY);
    return [
      result(
        'weaklink.alarm.p95.media',
        p95(mediaMs),
        'ms',
        { name: 'weaklink.alarm.p95.steady', value: steadyP95 },
        {
          goal: 'ratio <= 1.3',
          note: `edge-2g, ${mediaMs.length} presses while a camera took a ${picBytes / DELIVERY}-byte alarm picture every ${PICTURE_EVERY_MS / 1000} s (${during.chunks} chunks, ${during.pictures} pictures went up meanwhile${starved}); max ${Math.max(...mediaMs)} ms`,
        },
      ),
      result(
        'weaklink.media.delivery',
        deliveryMs / 1000,
        's',
        { name: 'weaklink.media.raw', value: rawMs / 1000 },
        {
          note: `edge-2g, ${DELIVERY} alarm pictures of ${picBytes / DELIVERY} bytes taken at once -> all whole at the county, village telemetry going; ${wireBytes} bytes up in all (${(wireBytes / picBytes).toFixed(2)}x the pictures); ${delivered ? `~${perDay} pictures a day at this pace` : 'no pace to scale to a day'}${shortfall}${behind}`,
        },
      ),
    ];
  } finally {
    clearInterval(camera);
    await close(r);
    await fleet.close();
  }
}

export async function weaklinkMediaBenchmarks(): Promise<BenchResult[]> {
  const bin = mosquittoPath();
  if (!bin) throw new Error('weak-link benchmarks need Mosquitto (apt-get install -y mosquitto)');
  const broker = await new Mosquitto(bin).start();
  const port = Number(new URL(broker.url).port);
  const sub = await new CountySubscriber({ url: broker.url, clientId: `county-bench-media-${Date.now()}` }).start();
  try {
    const steadyMs = await steadyPresses(port, sub);
    return [steadyRow(steadyMs), ...(await mediaRows(port, sub, p95(steadyMs)))];
  } finally {
    await sub.stop();
    await broker.dispose();
  }
}
