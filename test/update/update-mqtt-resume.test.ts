/**
 * An update pulled over MQTT survives a cut link without starting over: an in-process agent
 * reaches a real Mosquitto through a TCP proxy; mid-transfer the proxy drops every connection
 * for a second; the agent reconnects, asks again where it stood (or takes the answer the broker
 * kept for its persistent session), and the bundle is staged whole. The silence timeout is left
 * at its 30 s: the transfer ends well within it, so the resumption is the reconnect's, not a
 * timeout's; no piece before the cut is asked for twice.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TcpProxy } from '../../scripts/weak-link/tcp-proxy.js';
import { countyCommand } from '../helpers/county-command.js';
import { startCounty } from '../helpers/delivery.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { PanicPanel } from '../helpers/panic-panel.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { villageAgent } from '../helpers/village-agent.js';
import { waitUntil } from '../helpers/wait.js';
import { bundle } from './hand-bundle.js';
import { startUpdateServer } from './update-server-rig.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();
const GW = 'gw-update-resume';
const BIG = Buffer.from(Array.from({ length: 1024 * 1024 }, (_, i) => (i * 7) % 251));

describe('an update over MQTT across a cut link', () => {
  it('resumes where it stood after a reconnect and stages the bundle whole', { timeout: 60_000 }, async () => {
    const url = brokerRef.current.url;
    const dir = tempDir();
    const { asked } = await startUpdateServer(url, bundle('9.9.9', {}, { 'lib/big.bin': BIG }), tempDir(), cleanup, 20);
    const proxy = await new TcpProxy({ targetPort: Number(new URL(url).port) }).start();
    cleanup(() => proxy.stop());
    const county = await startCounty(url, cleanup, 'county-update-resume');
    const panel = await new PanicPanel().start();
    cleanup(() => panel.close());
    const agent = villageAgent({ url: proxy.url, dir, panel, gatewayId: GW });
    await agent.start();
    cleanup(() => agent.stop());
    await waitUntil(() => agent.observe.link().up, 10_000, 'the uplink');

    const reply = await countyCommand(county, GW, 'update', {
      id: 'u1',
      args: { mqtt: true, version: '9.9.9' },
      expiresAt: Date.now() + 60_000,
    });
    expect(reply.result).toMatchObject({ accepted: true, files: 1, bytes: BIG.length });
    await waitUntil(() => asked.length >= 12, 20_000, 'ten pieces served');
    proxy.cut();
    const cutAt = asked.length;
    await waitUntil(() => !agent.observe.link().up, 10_000, 'the link down');
    await new Promise((r) => setTimeout(r, 1000)); // the link stays cut a while
    proxy.restore();
    const restored = Date.now();
    const ready = join(dir, 'update/ready');
    await waitUntil(() => existsSync(ready), 25_000, 'update/ready');
    console.log(
      `cut after ${cutAt} answers; staged ${Date.now() - restored} ms after the link came back; answers: ${asked.length} for 66 pieces`,
    );
    expect(readFileSync(join(ready, 'lib/big.bin'))).toEqual(BIG);
    expect(agent.observe.link().reconnects).toBeGreaterThanOrEqual(1);
    const before = asked.slice(0, cutAt - 1); // the last one may have been on the wire at the cut
    for (const piece of before)
      expect(
        asked.filter((a) => a === piece),
        piece,
      ).toHaveLength(1);
    expect(asked.filter((a) => !a.includes('@'))).toEqual([]);
  });
});
