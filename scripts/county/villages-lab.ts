/**
 * A lab run of a county push (docs/county.md, "Fleet"): one real agent (the built CLI) behind the
 * weak-link lab's proxy (scripts/weak-link/), a Mosquitto with logins, and the villages tool's
 * wave code as the county, which sits on the broker's side of the link.
 *
 *   node dist/scripts/county/villages-lab.js --case apply --profile edge-2g [--probation 120] [--runs 1]
 *   node dist/scripts/county/villages-lab.js --case wrong-password --profile none [--probation 120]
 *
 * `apply`: a merge patch that adds a rule; timed from the config.apply command to config.applied
 * at the county (the probation window is inside that time: the overhead is printed apart).
 * `wrong-password`: a push whose `mqtt.password` names a file holding a wrong password (a push
 * carries refs, never values); timed until config.rolled_back reaches the county and until the
 * gateway's birth says it runs the old config again. `--profile none`: the plain link.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { Mosquitto, mosquittoPath } from '../brokers/mosquitto.js';
import { isProfileName } from '../weak-link/profiles.js';
import { WeakLink } from '../weak-link/weak-link.js';
import { mergePatch } from './merge-patch.js';
import { CountyLink } from './villages-link.js';
import { formatRows, listGateways } from './villages-list.js';
import { applyConfigInWaves } from './villages-config.js';

const CLI = fileURLToPath(new URL('../../agent/cli.js', import.meta.url));
const GW = 'gw-lab';
const say = (s: string) => process.stdout.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(get: () => T | undefined, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

async function main(): Promise<number> {
  const { values: v } = parseArgs({
    options: {
      case: { type: 'string', default: 'apply' },
      profile: { type: 'string', default: 'edge-2g' },
      probation: { type: 'string', default: '120' },
      runs: { type: 'string', default: '1' },
    },
  });
  const probationSec = Number(v.probation);
  const bin = mosquittoPath();
  if (!bin) throw new Error('needs mosquitto (apt-get install -y mosquitto)');
  if (v.profile !== 'none' && !isProfileName(v.profile)) throw new Error(`unknown profile ${v.profile}`);
  const dir = mkdtempSync(join(tmpdir(), 'villages-lab-'));
  const broker = await new Mosquitto(bin, { users: { county: 'county-pw', [GW]: 'right-pw' } }).start();
  const weak = v.profile === 'none' ? null : await WeakLink.start({ targetPort: broker.port, profile: v.profile });
  writeFileSync(join(dir, 'right'), 'right-pw\n');
  writeFileSync(join(dir, 'wrong'), 'wrong-pw\n');
  const file = join(dir, 'gateway.yaml');
  writeFileSync(
    file,
    stringify({
      version: 1,
      gateway: { id: GW },
      dataDir: join(dir, 'data'),
      log: { level: 'warn' },
      clock: { synced: 'always' },
      // The agent's own defaults for everything that shapes the link (reconnect backoff, will, session).
      mqtt: { url: weak?.url ?? broker.url, username: GW, password: { file: join(dir, 'right') } },
      devices: [{ id: 'meter', driver: 'synthetic', rates: { doorPerSec: 0, buttonPerSec: 0, telemetryPerSec: 0.2 } }],
    }),
  );
  const agent = spawn(process.execPath, [CLI, 'run', '--config', file], { stdio: ['ignore', 'ignore', 'inherit'] });
  agent.on('error', (err) => say(`agent: ${err.message}`));
  const county = await CountyLink.open({
    url: broker.url,
    root: 'village',
    protocolVersion: 4,
    username: 'county',
    password: 'county-pw',
  });
  let failed = false;
  try {
    await county.readStatuses(0);
    const online = (hash?: string) => {
      const s = county.statuses.get(GW)?.status;
      return s?.state === 'online' && (hash === undefined || s.configHash === hash) ? s : undefined;
    };
    const first = await until(() => online(), 60_000, 'the gateway online');
    say(
      `lab: profile ${v.profile}, probation ${probationSec} s, case ${v.case}, gateway online with ${first.configHash}`,
    );
    say(formatRows(await listGateways(county, { gateways: [GW], timeoutMs: 10_000, settleMs: 0, known: {} })));
    for (let run = 1; run <= Number(v.runs); run++) {
      const patch =
        v.case === 'wrong-password'
          ? { mqtt: { password: { file: join(dir, 'wrong') } } }
          : // A rule that never fires here (the meter has no door): an alert would refuse the next run's push.
            {
              rules: [
                {
                  id: `lab-${run}`,
                  when: { type: 'door.opened', devices: ['meter'] },
                  actions: [{ do: 'alert', priority: 'high', message: 'lab' }],
                },
              ],
            };
      const before = (await until(() => online(), 120_000, 'the gateway online')).configHash;
      const started = Date.now();
      const [r] = await applyConfigInWaves(county, {
        gateways: [GW],
        make: (running) => mergePatch(running, patch) as Record<string, unknown>,
        by: 'lab',
        probationSec,
        replyTimeoutMs: 60_000,
        verdictTimeoutMs: (probationSec + 300) * 1000,
      });
      const verdictMs = Date.now() - started;
      say(`run ${run}: ${r!.outcome} ${r!.previousHash} -> ${r!.hash}${r!.detail ? ` (${r!.detail})` : ''}`);
      say(
        `  config.apply -> verdict at the county: ${(r!.ms ?? NaN) / 1000} s (probation ${probationSec} s, overhead ${((r!.ms ?? NaN) / 1000 - probationSec).toFixed(1)} s); config.get included: ${verdictMs / 1000} s`,
      );
      if (v.case === 'wrong-password') {
        const back = await until(() => online(before), 120_000, 'the old config online');
        say(
          `  back online on ${back.configHash} (birth at ${back.ts}) ${(Date.parse(back.ts) - started) / 1000} s after the push; goal probation + 30 s = ${probationSec + 30} s`,
        );
        failed ||= r!.outcome !== 'rolled_back';
      } else failed ||= r!.outcome !== 'applied';
    }
  } finally {
    agent.kill('SIGTERM');
    await new Promise((res) => agent.once('exit', res));
    await county.close();
    await weak?.stop();
    await broker.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    say(`villages-lab: ${(err as Error).message}`);
    process.exit(2);
  },
);
