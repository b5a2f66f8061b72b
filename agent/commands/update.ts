/**
 * `update {url | mqtt: true, version, silenceSec?, by?}`: the county asks the gateway to fetch a
 * signed release bundle (agent/update/stager.ts) from an HTTP(S) URL, or pulled over the broker
 * from the county's update server (agent/update/mqtt-source.ts: a weak link may reach nothing
 * else). An actuation (an update queued on the broker for days must not
 * land on a village that moved on), refused during an alarm (the apply step restarts the
 * agent), while a config or flows push is on probation or another update is staged (one
 * change judged at a time), and for the release that runs already.
 */
import { z } from 'zod';
import { GatewayError } from '../../core/kernel/errors.js';
import type { CommandHandler } from '../uplink/commands.js';
import { pushOnProbation } from '../push/push-state.js';
import { VERSION } from '../version.js';
import type { UpdateStager } from '../update/stager.js';
import { httpSource, type BundleSource } from '../update/source.js';
import { MQTT_TIMING } from '../update/mqtt-source.js';
import type { AskTiming } from '../update/chunk-requests.js';
import { by } from './by.js';

/** The release a county names: also the county tool's check before it sends anything (scripts/county/villages-args.ts). */
export const releaseArgs = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).max(2048),
  version: z.string().regex(/^[0-9A-Za-z.+-]{1,64}$/),
});

const updateArgs = z
  .strictObject({
    url: releaseArgs.shape.url.optional(),
    mqtt: z.literal(true).optional(),
    /** Over MQTT: how long an answer may be silent before the same piece is asked again (4 tries). */
    silenceSec: z.number().int().min(1).max(600).optional(),
    version: releaseArgs.shape.version,
    by,
  })
  .refine((a) => (a.url === undefined) !== (a.mqtt === undefined), {
    error: 'exactly one of url and mqtt: true',
    path: ['url'],
  })
  .refine((a) => a.silenceSec === undefined || a.mqtt === true, {
    error: 'silenceSec is for mqtt: true only',
    path: ['silenceSec'],
  });

export interface UpdatePorts {
  dataDir: string;
  stager: UpdateStager;
  /** The bundle pulled over the broker (agent/update/mqtt-source.ts). */
  mqttSource(version: string, timing?: AskTiming): BundleSource;
  openAlerts: () => number;
}

export const updateCommand = (p: UpdatePorts): CommandHandler<typeof updateArgs> => ({
  args: updateArgs,
  actuation: true,
  run: async ({ url, version, silenceSec, by: who }) => {
    const open = p.openAlerts();
    if (open > 0)
      throw new GatewayError('ALARM_ACTIVE', `${open} alert(s) not acknowledged: send the update again once they are`);
    if (version === VERSION) throw new GatewayError('SAME_VERSION', `release ${VERSION} runs already`);
    const push = pushOnProbation(p.dataDir);
    if (push) throw new GatewayError('UPDATE_PENDING', `a ${push} push is on probation: wait for its verdict`);
    if (p.stager.pending())
      throw new GatewayError('UPDATE_PENDING', 'an update is being fetched or waits to be applied: wait for its event');
    // Who asked is in the reply only: the county keeps the command and its reply together.
    const source =
      url !== undefined
        ? httpSource(url)
        : p.mqttSource(
            version,
            silenceSec === undefined ? undefined : { ...MQTT_TIMING, silenceMs: silenceSec * 1000 },
          );
    return { ...(await p.stager.start(source, version)), by: who ?? null };
  },
});
