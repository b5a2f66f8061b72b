/**
 * Once the disk reserve is out, only alarm-class events commit (alarm-class.ts): decided by
 * type and source, so a flow's alert asking for `critical` and a `high` device event are
 * refused while a resident's press still commits. On a real full file system (a 1 MB tmpfs, as root).
 */
import { describe, expect, it } from 'vitest';
import { Outbox } from '../../agent/outbox/outbox.js';
import { isAlarmClass } from '../../agent/outbox/alarm-class.js';
import type { GatewayEvent, Priority } from '../../core/contracts/event.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { fillCard, mountSmallCard } from '../helpers/small-card.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { outboxConfig } from '../helpers/agent-config.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();

let seq = 0;
const ev = (type: string, priority: Priority, data: Record<string, unknown> = {}): GatewayEvent => {
  seq += 1;
  return {
    id: `0193a1b2-c3d4-7e5f-8a9b-${String(seq).padStart(12, '0')}`,
    seq,
    bootId: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
    gatewayId: 'gw',
    deviceId: 'house-1-panic',
    type,
    priority,
    ts: '2026-12-05T09:00:00.000Z',
    monoMs: 1,
    clockSynced: true,
    data,
  };
};
const press = () => ev('alarm.pressed', 'critical', { device: 'io', input: 'di1' });
const flowAlert = () => ev('alert.raised', 'critical', { rule: 'flow', message: 'x', reason: 'flow', causes: [] });

describe('the alarm class', () => {
  it('is decided by type and source, not priority', () => {
    expect(isAlarmClass(press())).toBe(true);
    expect(isAlarmClass(ev('alert.raised', 'high', { rule: 'panic' }))).toBe(true);
    expect(isAlarmClass(ev('alert.acknowledged', 'high', { rule: 'panic' }))).toBe(true);
    expect(isAlarmClass(ev('gateway.events_lost', 'critical'))).toBe(true);
    expect(isAlarmClass(ev('gateway.started', 'high'))).toBe(true);
    expect(isAlarmClass(flowAlert())).toBe(false);
    expect(isAlarmClass(ev('alert.acknowledged', 'high', { rule: 'flow' }))).toBe(false);
    expect(isAlarmClass(ev('device.offline', 'high'))).toBe(false);
    expect(isAlarmClass(ev('gateway.health', 'low'))).toBe(false);
    expect(isAlarmClass(ev('sensor.telemetry', 'critical'))).toBe(false);
  });

  it(`owns the released reserve (${process.getuid?.() === 0 ? 'a 1 MB tmpfs' : 'needs root for a tmpfs'})`, async () => {
    expect(process.getuid?.(), 'this test mounts a tmpfs: run it as root (CI does)').toBe(0);
    const dir = mountSmallCard(tempDir(), '1m', cleanup);
    const ob = new Outbox({ dir, config: outboxConfig(), diskReserveBytes: 100 * 1024 });
    cleanup(() => ob.close());
    await ob.put(press());
    fillCard(dir);
    await ob.put(press()); // fails for lack of room, lets the reserve go, commits alone
    expect(ob.stats().diskReserve).toMatchObject({ held: false, releases: 1 });
    await expect(ob.put(flowAlert())).rejects.toMatchObject({ code: 'DISK_FULL' });
    await expect(ob.put(ev('door.opened', 'high', { device: 'io', input: 'di2' }))).rejects.toMatchObject({
      code: 'DISK_FULL',
    });
    await ob.put(press());
    await ob.put(ev('alert.raised', 'critical', { rule: 'panic', message: 'x', reason: 'x', causes: [] }));
    expect(ob.stats().backlog.critical.count).toBe(4);
  });
});
