/**
 * A county consumer written from docs/county.md alone: the page's Python decoder for the compact
 * batch (standard library only) runs with `python3` on batches a real agent sent through a real
 * broker, and every envelope it expands is the one the agent stored. A page that drifts from the
 * format fails here.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../core/contracts/event.js';
import { Agent } from '../../agent/agent.js';
import { HEADER_BYTE } from '../../core/contracts/wire-payload.js';
import { testConfig } from '../helpers/agent-config.js';
import { readPage } from '../helpers/doc-tables.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

/** A page's Python block that defines decode_batch, if it has one. */
const decoderIn = (text: string): string | undefined =>
  [...text.matchAll(/```python\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.includes('def decode_batch'));

/** docs/county.md's decoder, as a county developer copies it. */
function pageDecoder(): string {
  const decoder = decoderIn(readPage('docs/county.md'));
  if (!decoder) throw new Error('docs/county.md has no Python decode_batch');
  return decoder;
}

const RUNNER = `
import base64, json, sys
out = []
for line in sys.stdin:
    out.extend(decode_batch(base64.b64decode(line)))
print(json.dumps(out))
`;

describe("docs/county.md's Python decoder", () => {
  it.each(['deflate', 'none', 'deflate-dict1'] as const)(
    'expands real %s batches to the envelopes the agent stored',
    async (compression) => {
      const gatewayId = `gw-py-${compression}`;
      const health = compression === 'deflate-dict1' ? 'batch' : 'topic';
      const batches: Buffer[] = [];
      const county = await mqtt.connectAsync(brokerRef.current.url, { clientId: `county-py-${compression}` });
      cleanup(() => county.endAsync());
      county.on('message', (topic, payload) => topic.endsWith('/events/batch') && batches.push(Buffer.from(payload)));
      await county.subscribeAsync(`village/${gatewayId}/events/batch`, { qos: 1 });

      const dir = tempDir();
      const config = testConfig(brokerRef.current.url, dir, {
        gateway: { id: gatewayId },
        // With the dictionary, health goes in the batches too (mqtt.wire.health: batch), once a second.
        ...(health === 'batch' ? { health: { intervalSec: 1 } } : {}),
        mqtt: { wire: { format: 'compact', compression, lingerMs: 200, health } },
      });
      const agent = new Agent({ config, configHash: 'py', baseDir: dir, logger: quietLogger() });
      const stored: GatewayEvent[] = [];
      agent.observe.onStored((events) => stored.push(...events));
      await agent.start();
      cleanup(() => agent.stop());
      // Readings of several devices (groups, deltas, fractional monoMs), doors (high: at once), odd data.
      for (let i = 0; i < 40; i++) {
        await agent.emit({
          deviceId: `t${i % 3}`,
          type: 'sensor.telemetry',
          priority: 'normal',
          data: { tempC: 20 + i / 10, humidity: i, note: i % 7 === 0 ? 'ünïcödé "quoted"' : null },
        });
        if (i % 10 === 0)
          await agent.emit({
            deviceId: 'door-1',
            type: 'door.opened',
            priority: 'high',
            data: { input: 'di1', active: true },
          });
        await new Promise((r) => setTimeout(r, 5));
      }
      const sent = stored.filter(
        (e) => e.priority !== 'critical' && (health === 'batch' || e.type !== 'gateway.health'),
      );
      const ids = new Set(sent.map((e) => e.id));
      const decode = () => {
        // From the repository's root: the page's decoder reads config/wire/<name>.txt from there.
        const py = spawnSync('python3', ['-c', `${pageDecoder()}\n${RUNNER}`], {
          cwd: fileURLToPath(new URL('../../', import.meta.url)),
          input: batches.map((b) => b.toString('base64')).join('\n'),
          encoding: 'utf8',
          maxBuffer: 64 * 1024 * 1024,
        });
        if (py.status !== 0) throw new Error(`python3 failed: ${py.stderr}`);
        return JSON.parse(py.stdout) as GatewayEvent[];
      };
      await waitUntil(
        () => batches.length > 0 && decode().filter((e) => ids.has(e.id)).length === ids.size,
        15_000,
        'every batch',
      );
      const decoded = new Map(decode().map((e) => [e.id, e]));
      expect(batches.every((b) => b[0] === HEADER_BYTE[compression])).toBe(true);
      expect(sent.length).toBeGreaterThan(40);
      expect(new Set(sent.map((e) => e.deviceId)).size).toBeGreaterThanOrEqual(4);
      if (health === 'batch') expect(sent.filter((e) => e.type === 'gateway.health').length).toBeGreaterThan(0);
      for (const e of sent) expect(decoded.get(e.id), e.id).toEqual(e);
    },
    40_000,
  );
});
