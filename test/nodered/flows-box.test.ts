/**
 * The flows' box, attacked from a flow as a stranger would, against the real CLI agent started
 * as the shipped unit starts it (a 64 MB heap), a real Node-RED child, a Modbus panel and a real
 * broker with the county's subscriber:
 * - a function node that writes three 30 MB messages every second to the child's fd 3, as
 *   process.send would under fork() IPC (this killed the agent before issue 17) or as frames on
 *   today's channel: the agent lives, the child is killed (reason 'channel') and restarted, and
 *   a press afterwards sounds the siren and reaches the county;
 * - as root, a function node that reads the agent's /proc/<pid>/environ, its config file, and
 *   writes into the config's folder: each fails with EACCES, and the agent's env secret is in
 *   nothing the flow can read (its own environment included).
 */
import { chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeRedAdmin } from '../../scripts/bench/nodered-admin.js';
import { CountySubscriber } from '../../scripts/county-subscriber.js';
import { AgentChild } from '../helpers/agent-child.js';
import { DeliveryCheck } from '../helpers/delivery.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { editorEnv, injectedFunction } from '../helpers/node-red.js';
import { editorVillage } from '../helpers/editor-village.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();
const SECRET = 'agent-env-secret-7f3a9c';

async function village(id: string) {
  const dir = tempDir();
  chmodSync(dir, 0o755); // more open than /etc/village-gateway (1770): the files' own modes must hold
  const { panel, port, file } = await editorVillage(dir, { id, brokerUrl: brokerRef.current.url }, cleanup);
  chmodSync(file, 0o640);
  const county = await new CountySubscriber({ url: brokerRef.current.url, clientId: `county-${id}` }).start();
  cleanup(() => county.stop());
  const check = new DeliveryCheck(county);
  const agent = new AgentChild(file, editorEnv(SECRET), ['--max-old-space-size=64']).start();
  cleanup(() => agent.kill('SIGTERM'));
  check.watchProcess(agent);
  const byType = (type: string) => [...county.events.values()].filter((e) => e.type === type && e.gatewayId === id);
  const url = `http://127.0.0.1:${port}/`;
  await waitUntil(() => byType('nodered.started').length > 0 || !agent.running, 60_000, 'Node-RED started');
  expect(agent.running, agent.output).toBe(true);
  const admin = await nodeRedAdmin(url, 'tech', 'village-pass');
  const press = async (n: number) => {
    expect(await panel.press('di1', 10_000, () => agent.running), `the siren for press ${n}`).toBe(true);
    await county.waitFor(() => byType('alarm.pressed').length >= n && byType('alert.raised').length >= n, 20_000);
  };
  return { dir, file, agent, admin, county, check, byType, press };
}

describe('the flows in their own box', () => {
  it('a flow writing three 30 MB messages a second to its channel does not take the agent down; a press still reaches siren and county', async () => {
    const v = await village('gw-box-flood');
    await v.press(1);
    // The probe, heavier: three 30 MB messages a tick, built as Buffers (off the child's heap, so
    // the child itself does not stall at its 128 MB heap limit before they are out) and written straight
    // to fd 3. Under fork() (the code before issue 17) fd 3 was the IPC pipe and these are the bytes
    // process.send writes (JSON + newline): the agent parsed each whole on its 64 MB heap and died
    // ("Reached heap limit"). Today fd 3 is our channel, so they go as length-prefixed frames.
    await v.admin.deploy(
      injectedFunction(
        `const p = Buffer.constructor('return process')();
         const fs = p.getBuiltinModule('fs');
         const ipc = typeof p.send === 'function';
         const body = Buffer.concat([Buffer.from('{"t":"log","level":"info","msg":"'), Buffer.alloc(30 * 1024 * 1024, 'x'), Buffer.from('"}')]);
         const head = Buffer.alloc(4);
         head.writeUInt32BE(body.length);
         const wire = ipc ? Buffer.concat([body, Buffer.from('\\n')]) : Buffer.concat([head, body]);
         node.warn(ipc ? 'fork IPC: writing what process.send writes' : 'no process.send: writing frames');
         for (let i = 0; i < 3; i++)
           for (let off = 0; off < wire.length; ) {
             try { off += fs.writeSync(3, wire, off); } catch (e) { if (e.code !== 'EAGAIN') return; }
           }`,
        1,
      ),
    );
    // Not met in time is said by the expectations below, with the agent's output (its heap report, if it died).
    await v.county
      .waitFor(() => v.byType('nodered.stopped').length >= 2 || !v.agent.running, 60_000)
      .catch(() => undefined);
    expect(v.agent.running, v.agent.output).toBe(true);
    expect(
      v.byType('nodered.stopped').map((e) => e.data['reason']),
      v.agent.output,
    ).toContain('channel');
    expect(v.byType('nodered.stopped').length, v.agent.output).toBeGreaterThanOrEqual(2);
    // Restarted after each kill (into safe mode once it is a crash loop): the child comes back either way.
    await v.county.waitFor(() => v.byType('nodered.started').length >= 2, 60_000);
    await v.press(2);
    await v.press(3);
    expect(v.agent.running, v.agent.output).toBe(true);
    await v.check.expectAllDelivered(30_000);
  }, 240_000);

  it.runIf(process.getuid?.() === 0)(
    "as root: a flow cannot read the agent's environment or config, nor write beside the config",
    async () => {
      const v = await village('gw-box-secrets');
      const pid = v.agent.pid!;
      await v.admin.deploy(
        injectedFunction(
          `const p = Buffer.constructor('return process')();
           const fs = p.getBuiltinModule('fs');
           const r = {};
           const probe = (k, f) => { try { r[k] = String(f()).slice(0, 20000); } catch (e) { r[k] = 'ERR ' + e.code; } };
           probe('environ', () => fs.readFileSync('/proc/${pid}/environ', 'latin1'));
           probe('cmdline', () => fs.readFileSync('/proc/${pid}/cmdline', 'latin1'));
           probe('config', () => fs.readFileSync(${JSON.stringify(v.file)}, 'utf8'));
           probe('write', () => fs.writeFileSync(${JSON.stringify(join(v.dir, 'planted.yaml'))}, 'x'));
           probe('dataDir', () => fs.readdirSync(${JSON.stringify(join(v.dir, 'data'))}).join(','));
           probe('ownEnv', () => JSON.stringify(p.env));
           probe('uid', () => p.getuid());
           r.send = typeof p.send;
           global.set('probe', r);`,
        ),
      );
      let r: Record<string, string> | undefined;
      for (let i = 0; i < 100 && r === undefined; i++) {
        r = (await v.admin.global('probe')) as Record<string, string> | undefined;
        if (r === undefined) await new Promise((ok) => setTimeout(ok, 200)); // the polling step
      }
      expect(r, 'the probe ran').toBeDefined();
      expect(r).toMatchObject({
        environ: 'ERR EACCES',
        config: 'ERR EACCES',
        write: 'ERR EACCES',
        dataDir: 'ERR EACCES',
        send: 'undefined',
      });
      expect(r!['uid']).not.toBe('0');
      expect(JSON.stringify(r)).not.toContain(SECRET);
      expect(existsSync(join(v.dir, 'planted.yaml'))).toBe(false);
      await v.press(1);
    },
    120_000,
  );
});
