/**
 * `plan` counts the cameras' pictures (issue 19): alarm pictures a day x the assumed size, cut
 * into chunks as the sender cuts them, capped by `media.upload.maxBytesPerDay`; `on-request`
 * and `off` send none on their own and say so; no networked camera, no pictures line.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_ASSUMPTIONS, planConfig } from '../../agent/plan.js';
import { formatPlan, formatPlanWide, totalBytes } from '../../agent/plan-report.js';
import { gatewayConfigSchema } from '../../config/schema/gateway-config.js';

const PICTURE = DEFAULT_ASSUMPTIONS.pictureBytes;

function configWith(media: Record<string, unknown> = {}, cameras = 1) {
  return gatewayConfigSchema.parse({
    version: 1,
    gateway: { id: 'gw-pictures' },
    dataDir: '/x',
    mqtt: { url: 'mqtt://h', wire: { format: 'compact' } },
    health: { intervalSec: 3600 },
    devices: Array.from({ length: cameras }, (_, i) => ({
      id: `cam-${i + 1}`,
      driver: 'camera',
      profile: 'hikvision-isapi',
      host: `192.168.1.${64 + i}`,
      user: 'gateway',
      password: { env: 'CAM_PASS' },
    })),
    media,
  });
}

const widest = (out: string) => Math.max(...out.split('\n').map((l) => l.length));

describe('plan: pictures', () => {
  it("auto: each camera's alarm pictures a month, in 4 KB chunks with their headers and MQTT framing", () => {
    const config = configWith({}, 2);
    const plan = planConfig(config);
    const p = plan.pictures;
    expect(p).toMatchObject({ cameras: 2, mode: 'auto', takenPerDay: 6, capped: false, why: null });
    expect(p.sentPerMonth).toBe(6 * 30);
    expect(p.messages).toBe(6 * 30 * Math.ceil(PICTURE / 4096));
    // The picture's bytes, plus per chunk a header line (~80 B, chunk 0's ~300 B) and a PUBLISH + PUBACK.
    const overhead = p.bytes / p.sentPerMonth - PICTURE;
    expect(overhead).toBeGreaterThan(13 * 80);
    expect(overhead).toBeLessThan(13 * 200 + 400);
    // The alarm and camera.picture events are rows of their own, and the total counts the pictures.
    const types = plan.rows.map((r) => r.type);
    expect(types).toEqual(expect.arrayContaining(['camera.intrusion', 'camera.picture']));
    expect(plan.rows.find((r) => r.type === 'camera.picture')!.eventsPerMonth).toBeCloseTo(180, 6);
    expect(totalBytes(plan).wire).toBeGreaterThan(plan.wireBytes + p.bytes);
    const out = formatPlan(plan, config);
    expect(widest(out), out).toBeLessThanOrEqual(40);
    expect(out).toMatch(/^pictures +180 +9\.\d\d\n {2}3 a day x 50 KB, 2 cameras, auto$/m);
    expect(formatPlanWide(plan, config)).toMatch(
      /^pictures +lowest +2 +180 +9\.\d\d MB +9\.\d\d MB +auto, 50000 B each$/m,
    );
  });

  it('bigger chunks mean fewer messages and fewer header bytes for the same pictures', () => {
    const small = planConfig(configWith({ upload: { chunkBytes: 1024 } })).pictures;
    const big = planConfig(configWith({ upload: { chunkBytes: '64KiB' } })).pictures;
    expect(big.messages).toBe(90);
    expect(small.messages).toBe(90 * Math.ceil(PICTURE / 1024));
    expect(big.bytes).toBeLessThan(small.bytes);
  });

  it('the daily byte cap cuts what goes, and says so', () => {
    const config = configWith({ upload: { maxBytesPerDay: 100_000 } });
    const plan = planConfig(config, { ...DEFAULT_ASSUMPTIONS, alarmPicturesPerDay: 10 });
    const p = plan.pictures;
    expect(p.capped).toBe(true);
    // ~2 of the 10 pictures a day fit in 100,000 bytes of chunks.
    expect(p.sentPerMonth).toBeGreaterThan(1.9 * 30);
    expect(p.sentPerMonth).toBeLessThan(2 * 30);
    expect(p.bytes).toBeLessThan(30 * 100_000 * 1.02);
    const out = formatPlan(plan, config);
    expect(out).toContain('\n  10 a day x 50 KB, 1 camera, auto\n  capped by media.upload.maxBytesPerDay\n');
    expect(widest(out)).toBeLessThanOrEqual(40);
  });

  it.each([
    ['off', 'media.upload.mode off'],
    ['on-request', 'only when the county asks'],
  ])('%s: no picture goes on its own; 0 and the reason', (mode, why) => {
    const config = configWith({ upload: { mode } });
    const plan = planConfig(config);
    expect(plan.pictures).toMatchObject({ sentPerMonth: 0, bytes: 0, messages: 0, why });
    const out = formatPlan(plan, config);
    expect(out).toMatch(new RegExp(`^pictures +0\\.0 +0\\.00\\n {2}none sent: ${why}$`, 'm'));
    expect(widest(out)).toBeLessThanOrEqual(40);
    // camera.picture still names each picture stored (it is an event, sent whatever the mode).
    expect(plan.rows.find((r) => r.type === 'camera.picture')!.eventsPerMonth).toBeCloseTo(90, 6);
  });

  it('no networked camera: no pictures line', () => {
    const config = configWith({}, 0);
    const plan = planConfig(config);
    expect(plan.pictures).toMatchObject({ cameras: 0, bytes: 0 });
    expect(formatPlan(plan, config)).not.toMatch(/^pictures/m);
    expect(formatPlanWide(plan, config)).not.toMatch(/^pictures/m);
  });
});
