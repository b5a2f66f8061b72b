/**
 * What the county must see is what the camera saw, end to end on real peers: a simulated
 * Hikvision, Dahua or ONVIF camera (HTTP, digest or WS-Security, its own framing) raises an alarm, the agent types
 * it, fetches the camera's picture, stores it, and the county's subscriber on a real broker gets
 * the alarm first, then `camera.picture`, then the picture itself in chunks, put together with
 * its hash checked, chunk 0 naming the alarm it was taken for.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mqttMessageBytes } from '../../agent/plan.js';
import { planPictures } from '../../agent/plan-pictures.js';
import { decodeChunk } from '../../core/contracts/media-chunk.js';
import type { AssembledPicture } from '../../scripts/county/picture-assembler.js';
import { testConfig } from '../helpers/agent-config.js';
import { openCameraRig } from '../helpers/camera-rig.js';
import { onvifRig } from '../helpers/onvif-rig.js';
import { DeliveryCheck, startCounty } from '../helpers/delivery.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();
const brokerRef = useBroker();

/** Each brand's own words for an alarm (Dahua counts channels from 0 and says Start). */
const ALARMS = {
  hikvision: { sent: { code: 'linedetection', state: 'active', channel: 1 }, type: 'camera.line_crossed' },
  dahua: { sent: { code: 'CrossRegionDetection', state: 'Start', channel: 0 }, type: 'camera.intrusion' },
  onvif: { type: 'camera.line_crossed' },
} as const;
const ONVIF_CROSSED = {
  topic: 'tns1:RuleEngine/LineDetector/Crossed',
  source: { Rule: 'Gate' },
  data: { State: 'true' },
};

describe('a camera alarm reaches the county with its picture', () => {
  it.each(['hikvision', 'dahua', 'onvif'] as const)(
    '%s: the alarm, then camera.picture, then the picture whole',
    async (brand) => {
      const county = await startCounty(brokerRef.current.url, cleanup);
      // The county's delivery checker on the same arrivals: it puts the picture together itself.
      const check = new DeliveryCheck(county);
      // Each chunk's bytes on the wire (its PUBLISH and PUBACK), first copy of each index, per picture.
      const wire = new Map<string, Map<number, number>>();
      county.on('media', (gatewayId, id, payload) => {
        const chunks = wire.get(id) ?? wire.set(id, new Map()).get(id)!;
        const { i } = decodeChunk(payload).header;
        if (!chunks.has(i)) chunks.set(i, mqttMessageBytes(`village/${gatewayId}/media/${id}`, payload.length, false));
      });
      const order: string[] = [];
      county.on('event', (e) => order.push(e.type));
      county.on('picture', (p: AssembledPicture) => order.push(`picture ${p.id}`));
      const peers = { brokerUrl: brokerRef.current.url, dir: tempDir(), cleanup };
      const r =
        brand === 'onvif'
          ? await onvifRig(peers).then((o) => ({ rig: o.rig, alarm: () => o.sim.event(ONVIF_CROSSED) }))
          : await openCameraRig({ ...peers, sim: { brand } }).then((c) => ({
              rig: c.rig,
              alarm: () => c.sim.event({ ...ALARMS[brand].sent, region: 'Gate' }),
            }));
      // Sent again until the agent has it: on a loaded machine the rig's short idle timeout may cut
      // the stream the first one was on (the camera then sends it to no one, as a real one would).
      for (let i = 0; !r.rig.events.some((e) => e.type === ALARMS[brand].type); i++) {
        if (i === 10) throw new Error(`no ${ALARMS[brand].type} after 10 tries`);
        r.alarm();
        await new Promise((res) => setTimeout(res, 1000));
      }

      const events = () => [...county.events.values()];
      await county.waitFor(() => events().some((e) => e.type === 'camera.picture'), 15_000);
      const announced = events().find((e) => e.type === 'camera.picture')!.data as {
        picture: { id: string; bytes: number; sha256: string };
        cause: { event: string };
      };
      await county.waitFor(() => county.events.has(announced.cause.event), 15_000);
      const alarm = county.events.get(announced.cause.event)!;
      expect(alarm.type).toBe(ALARMS[brand].type);
      await county.waitFor(() => county.pictures.has(announced.picture.id), 15_000);
      const picture = county.pictures.get(announced.picture.id)!;
      expect(picture.size).toBe(announced.picture.bytes);
      expect(createHash('sha256').update(picture.bytes).digest('hex')).toBe(announced.picture.sha256);
      expect(picture).toMatchObject({ cameraId: 'gate-cam', type: 'image/jpeg', eventId: alarm.id });
      expect(picture.bytes.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
      // The alarm is never behind its picture.
      expect(order.indexOf(ALARMS[brand].type)).toBeLessThan(order.indexOf(`picture ${picture.id}`));
      expect(order.indexOf(ALARMS[brand].type)).toBeLessThan(order.indexOf('camera.picture'));
      // The delivery checker agrees: the picture whole, as its camera.picture announced it.
      const v = await check.settle();
      expect(v.problems).toEqual([]);
      expect(v.pictures).toMatchObject({ announced: 1, whole: 1, notSent: [], incomplete: [], corrupt: [] });
      // `plan` says what such a picture costs: its model of the chunks is what the sender put on the wire.
      const sent = [...wire.get(picture.id)!.values()].reduce((a, b) => a + b, 0);
      const rigLike = testConfig(brokerRef.current.url, '/x', {
        devices: [
          { id: 'gate-cam', driver: 'camera', profile: 'hikvision-isapi', host: 'h', user: 'u', password: 'p' },
        ],
      });
      const planned = planPictures(rigLike, 1, picture.size);
      expect(planned.messages / planned.sentPerMonth).toBe(wire.get(picture.id)!.size);
      expect(planned.bytes / planned.sentPerMonth).toBeCloseTo(sent, 0);
    },
    40_000,
  );
});
