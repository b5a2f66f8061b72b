/**
 * Cameras in Node-RED (issue 19, item 6): a camera's events reach `village in`, and a flow asks
 * for a snapshot with `village snapshot`. Real peers: the simulated Hikvision camera, the agent
 * with its Node-RED child running our nodes, Mosquitto, the county's subscriber. The flow's
 * request is recorded as media.requested by node-red, limited per camera like the county's, and
 * the flow sees camera.picture (never the picture's bytes).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCameraRig } from '../helpers/camera-rig.js';
import { startCounty } from '../helpers/delivery.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

/** A line crossing (seen by `village in`) asks for three snapshots; each picture stored raises a flow alert. */
const gateFlow = [
  { id: 'gate', type: 'tab', label: 'Gate camera' },
  {
    id: 'crossings',
    z: 'gate',
    type: 'village in',
    types: 'camera.line_crossed',
    wires: [['shoot1', 'shoot2', 'shoot3']],
  },
  ...['shoot1', 'shoot2', 'shoot3'].map((id) => ({
    id,
    z: 'gate',
    type: 'village snapshot',
    camera: 'gate-cam',
    wires: [],
  })),
  { id: 'pictures', z: 'gate', type: 'village in', types: 'camera.picture', wires: [['seen']] },
  {
    id: 'seen',
    z: 'gate',
    type: 'village alert',
    message: 'the flow saw a picture',
    priority: 'high',
    sms: 'never',
    wires: [[]],
  },
];

describe('cameras in Node-RED', () => {
  it(
    'camera events reach village in; a flow asks for a snapshot, limited per camera and recorded by node-red',
    { timeout: 90_000 },
    async () => {
      const dir = tempDir();
      mkdirSync(join(dir, 'node-red'), { recursive: true });
      writeFileSync(join(dir, 'node-red', 'flows.json'), JSON.stringify(gateFlow));
      const county = await startCounty(brokerRef.current.url, cleanup);
      const r = await openCameraRig({
        brokerUrl: brokerRef.current.url,
        dir,
        cleanup,
        sim: { brand: 'hikvision' },
        config: {
          nodeRed: { port: 0, users: [{ username: 'tech', password: 'tech-password' }], credentialSecret: 'secret' },
        },
      });
      await waitUntil(() => r.rig.agent.observe.nodeRed()?.state === 'running', 60_000, 'Node-RED running');

      // Sent again until the agent has it (the rig's short idle timeout may cut the stream under load).
      for (let i = 0; !r.rig.events.some((e) => e.type === 'camera.line_crossed'); i++) {
        if (i === 10) throw new Error('no camera.line_crossed after 10 tries');
        r.sim.event({ code: 'linedetection', state: 'active', channel: 1, region: 'Gate' });
        await new Promise((res) => setTimeout(res, 1000));
      }
      const byType = (type: string) => [...county.events.values()].filter((e) => e.type === type);
      const fromFlow = () => byType('media.requested').filter((e) => e.data['request'] === 'node-red');
      // Three asks at once: the burst (2) taken, the third refused and recorded.
      await county.waitFor(() => fromFlow().length >= 3, 30_000);
      const outcomes = fromFlow()
        .map((e) => e.data['outcome'])
        .sort();
      // Stored: a flow's picture goes up as the upload mode says (auto here: it is an alarm-class picture, like a rule's).
      expect(outcomes).toEqual(['refused', 'stored', 'stored']);
      expect(fromFlow().find((e) => e.data['outcome'] === 'refused')!.data).toMatchObject({
        by: 'node-red',
        command: null,
        what: 'snapshot',
        camera: 'gate-cam',
        code: 'RATE_LIMITED',
      });
      // The flow's pictures are announced with the flow as their cause, and the flow's `village in` saw camera.picture.
      const flowPictures = byType('camera.picture').filter(
        (e) => (e.data['cause'] as { request?: string }).request === 'node-red',
      );
      expect(flowPictures).toHaveLength(2);
      await county.waitFor(
        () =>
          byType('alert.raised').some(
            (e) => e.data['rule'] === 'flow' && (e.data['causes'] as { type: string }[])[0]?.type === 'camera.picture',
          ),
        30_000,
      );
    },
  );
});
