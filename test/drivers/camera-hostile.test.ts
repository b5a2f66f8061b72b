/**
 * Hostile cameras (issue 19, item 7): each mode is bounded (the driver holds at most a part's
 * cap), counted, logged once, and a panic press on a Modbus board beside it still sounds the
 * siren promptly and reaches the county while it goes on.
 */
import { describe, expect, it } from 'vitest';
import type { HostileMode } from '../../scripts/simulators/camera-hostile.js';
import type { Brand } from '../../scripts/simulators/camera-framing.js';
import { logged, openCameraRig, turnHostile, type CameraRig } from '../helpers/camera-rig.js';
import { startCounty } from '../helpers/delivery.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();
const brokerRef = useBroker();

/** The profiles' part cap plus the header cap and a boundary: the most the parser may hold. */
const HELD_MAX = 262144 + 8192 + 64;
/** A press is read within a 50 ms poll and the siren written at once (~60-150 ms here); the rest is room for a loaded 2-core machine. */
const PRESS_MS = 1000;

interface Case {
  mode: HostileMode;
  brand: Brand;
  /** The one code logged for it, and what describe() counts. */
  code: string;
  counted: (d: Record<string, unknown>) => boolean;
  device?: Record<string, unknown>;
}

const cases: Case[] = [
  { mode: 'malformed', brand: 'dahua', code: 'CAMERA_STREAM_MALFORMED', counted: (d) => (d.malformed as number) > 3 },
  {
    mode: 'endless-part',
    brand: 'hikvision',
    code: 'CAMERA_PART_TOO_LARGE',
    counted: (d) => (d.oversize as number) >= 1,
  },
  {
    mode: 'huge-body',
    brand: 'hikvision',
    code: 'CAMERA_PART_TOO_LARGE',
    counted: (d) => d.oversize === 1 && (d.heartbeats as number) >= 1, // the part after it is read
    device: { idleTimeoutMs: 20000 },
  },
  {
    mode: 'xml-bomb',
    brand: 'hikvision',
    code: 'CAMERA_STREAM_MALFORMED',
    counted: (d) => (d.malformed as number) > 3,
  },
  { mode: 'slow-drip', brand: 'dahua', code: 'CAMERA_STREAM_LOST', counted: (d) => (d.reconnects as number) >= 1 },
  { mode: 'html', brand: 'hikvision', code: 'CAMERA_NOT_A_STREAM', counted: (d) => (d.reconnects as number) >= 2 },
  {
    mode: 'storm',
    brand: 'dahua',
    code: 'CAMERA_EVENT_STORM',
    counted: (d) => (d.suppressed as number) > 500,
    device: { debounceMs: 1000 },
  },
];

const detailOf = (r: CameraRig) =>
  r.rig.agent.drivers.find((d) => d.describe().driver === 'camera')!.describe().detail!;

describe('hostile cameras', () => {
  it.each(cases)(
    '$mode ($brand): bounded, counted, logged once, a press still sounds the siren and reaches the county',
    async (c) => {
      const county = await startCounty(brokerRef.current.url, cleanup);
      const r = await openCameraRig({
        brokerUrl: brokerRef.current.url,
        dir: tempDir(),
        cleanup,
        sim: { brand: c.brand },
        device: { idleTimeoutMs: 1500, ...c.device },
        panic: true,
        siren: true,
      });
      turnHostile(r, c.mode);
      let held = 0;
      const sampler = setInterval(() => (held = Math.max(held, detailOf(r).buffered as number)), 5);
      cleanup(() => clearInterval(sampler));
      await waitUntil(() => r.sim.connections >= 2, 5000, 'the hostile connection');
      await new Promise((res) => setTimeout(res, 300));
      const presses = [await r.pressToSiren!(), await r.pressToSiren!()];
      await waitUntil(() => c.counted(detailOf(r)), 15000, `${c.mode} counted (${JSON.stringify(detailOf(r))})`);
      clearInterval(sampler);
      expect(Math.max(...presses)).toBeLessThan(PRESS_MS);
      const pressed = r.rig.events.filter((e) => e.type === 'alarm.pressed').map((e) => e.id);
      expect(pressed).toHaveLength(2);
      await county.waitFor(() => pressed.every((id) => county.events.has(id)), 10_000);
      expect(held).toBeLessThanOrEqual(HELD_MAX);
      expect(logged(r.logs, c.code)).toHaveLength(1);
      // Nothing else was logged but the stream's first cut (the test's), and the hostile mode's own code.
      const others = r.logs.filter(
        (l) => l.code !== c.code && !(l.code === 'CAMERA_STREAM_LOST' && l.reason === 'closed'),
      );
      expect(others).toEqual([]);
    },
  );

  it('a 1,000-events-a-second camera sends a handful of events, counted', async () => {
    const r = await openCameraRig({
      brokerUrl: brokerRef.current.url,
      dir: tempDir(),
      cleanup,
      sim: { brand: 'hikvision' },
      device: { debounceMs: 1000 },
    });
    const t0 = Date.now();
    turnHostile(r, 'storm');
    await waitUntil(() => (detailOf(r).suppressed as number) > 1500, 10000, 'the storm counted');
    const motions = r.rig.events.filter((e) => e.type === 'camera.motion');
    // 4 regions, one event each a second at most: a few a second, not a thousand.
    expect(motions.length).toBeGreaterThanOrEqual(4);
    expect(motions.length).toBeLessThanOrEqual(4 * Math.ceil((Date.now() - t0) / 1000 + 1));
    expect(detailOf(r).suppressed as number).toBeGreaterThan(motions.length * 20);
    expect(motions.some((e) => ((e.data as { count: number }).count ?? 0) > 50)).toBe(true);
  });
});
