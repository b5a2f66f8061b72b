/** Dahua CGI eventManager attach through the real camera driver and the agent's pipeline, against a simulated camera. */
import { describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../core/contracts/event.js';
import type { CameraSimOptions } from '../../scripts/simulators/camera-simulator.js';
import { openCameraRig } from '../helpers/camera-rig.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();
const brokerRef = useBroker();

async function dahua(sim: Omit<CameraSimOptions, 'brand'> = {}, device: Record<string, unknown> = {}) {
  return openCameraRig({
    brokerUrl: brokerRef.current.url,
    dir: tempDir(),
    cleanup,
    sim: { brand: 'dahua', ...sim },
    device,
  });
}

describe('Dahua CGI camera', () => {
  it('turns Start/Stop/Pulse parts into typed camera events, by the profile', async () => {
    const { sim, rig, logs } = await dahua();
    sim.event({ code: 'VideoMotion', state: 'Start', channel: 0, region: 'Region1', cameraTime: '1620477656' });
    const motion = await rig.waitFor((e) => e.type === 'camera.motion');
    expect(motion.data).toEqual({
      protocol: 'dahua-cgi',
      code: 'VideoMotion',
      channel: 1, // index 0 is channel 1
      region: 'Region1',
      cameraTime: '2021-05-08T12:40:56.000Z',
      alarm: false,
      count: 1,
    });
    sim.event({ code: 'VideoMotion', state: 'Stop', channel: 0, region: 'Region1' });
    await rig.waitFor((e) => e.type === 'camera.motion_ended');
    sim.event({ code: 'CrossLineDetection', state: 'Start', channel: 0, region: 'Rule1' }); // IVS: Start, no Stop
    sim.event({ code: 'CrossLineDetection', state: 'Stop', channel: 0, region: 'Rule1' }); // if one comes: nothing
    sim.event({ code: 'CrossRegionDetection', state: 'Pulse', channel: 0, region: 'Rule2' });
    sim.event({ code: 'VideoBlind', state: 'Start', channel: 0 });
    sim.event({ code: 'VideoLoss', state: 'Start', channel: 0 });
    sim.event({ code: 'AlarmLocal', state: 'Start', channel: 1 }); // index 1: the second alarm input
    sim.event({ code: 'AlarmLocal', state: 'Stop', channel: 1 });
    await rig.waitFor((e) => e.type === 'camera.alarm_input_ended');
    const of = (type: string): GatewayEvent => rig.events.find((e) => e.type === type)!;
    expect(of('camera.line_crossed')).toMatchObject({ priority: 'high', data: { region: 'Rule1', alarm: true } });
    expect(of('camera.intrusion').data).toMatchObject({ code: 'CrossRegionDetection', region: 'Rule2' });
    expect(of('camera.tamper').data).toMatchObject({ code: 'VideoBlind', alarm: true });
    expect(of('camera.video_lost').data).toMatchObject({ code: 'VideoLoss' });
    expect(of('camera.alarm_input').data).toMatchObject({ code: 'AlarmLocal', channel: 2 });
    expect(rig.events.filter((e) => e.type.startsWith('camera.line_crossed'))).toHaveLength(1);
    expect(logs).toEqual([]);
  });

  it('reads the bare-LF firmware, answers a Basic-only camera, and keeps a stream alive on heartbeats', async () => {
    const { sim, rig, logs } = await dahua({ eol: '\n', auth: 'basic', heartbeatMs: 300 }, { idleTimeoutMs: 1000 });
    await new Promise((r) => setTimeout(r, 2500)); // longer than the idle time: heartbeats alone keep it
    expect(sim.connections).toBe(1);
    sim.event({ code: 'CrossLineDetection', state: 'Start', channel: 0 });
    const crossed = await rig.waitFor((e) => e.type === 'camera.line_crossed');
    expect(crossed.data).toMatchObject({ channel: 1, region: null });
    expect(rig.events.filter((e) => e.type.startsWith('device.'))).toEqual([]);
    expect(logs).toEqual([]);
  });

  it('debounces a motion storm: one event per region per debounce, the rest counted in the next', async () => {
    const { sim, rig } = await dahua({}, { debounceMs: 400 });
    for (let i = 0; i < 50; i += 1) {
      sim.event({ code: 'VideoMotion', state: 'Start', channel: 0, region: 'R1' });
      sim.event({ code: 'VideoMotion', state: 'Stop', channel: 0, region: 'R1' });
    }
    await rig.waitFor((e) => e.type === 'camera.motion_ended');
    await new Promise((r) => setTimeout(r, 500));
    sim.event({ code: 'VideoMotion', state: 'Start', channel: 0, region: 'R1' });
    await waitUntil(() => rig.events.filter((e) => e.type === 'camera.motion').length === 2, 3000, 'a second motion');
    const motions = rig.events.filter((e) => e.type === 'camera.motion');
    expect(motions[0]!.data).toMatchObject({ count: 1 });
    expect(motions[1]!.data).toMatchObject({ count: 50, suppressed: 49 }); // 49 held back, then this one
    expect(rig.events.filter((e) => e.type === 'camera.motion_ended')).toHaveLength(1);
  });
});
