/**
 * The county's tool for its villages (docs/county.md, "Fleet"), over MQTT with the county's login:
 *
 *   node dist/scripts/county/villages.js list [--gateways a,b | --group G] [--json] [--state FILE]
 *   node dist/scripts/county/villages.js apply-config --patch p.json | --file cfg.yaml (--gateways a,b | --group G)
 *   node dist/scripts/county/villages.js apply-update (--bundle-url URL | --mqtt) --version X (--gateways a,b | --group G)
 *
 * Common: --url mqtt://county:1883 --username U (password from --password-file or VILLAGES_PASSWORD,
 * never the command line: it would be in every `ps`), --root village, --mqtt-version 4|5,
 * --groups FILE (`{groups: {name: [ids]}}`, YAML or JSON), --key FILE --key-id ID (sign every command
 * with the county's ed25519 key, for gateways with county.keys). Exit 0: all well; 1: a gateway did not
 * answer, or a push stopped (rollback, refusal, timeout); 2: usage or input error.
 * (Not scripts/county/fleet.ts: that is a load benchmark of simulated gateways.)
 */
import { parseArgs } from 'node:util';
import { errorMessage, GatewayError } from '../../core/kernel/errors.js';
import { configMaker, num, readSecret, readSigner, release, targets, usage } from './villages-args.js';
import { applyConfigInWaves, formatConfigResults } from './villages-config.js';
import { CountyLink } from './villages-link.js';
import { formatRows, listGateways, readState, writeState } from './villages-list.js';
import { applyUpdateInWaves, formatUpdateResults, type UpdateWaveOptions } from './villages-update.js';
import { wavesOk, type WaveResult } from './villages-waves.js';

const HELP = `usage: villages list|apply-config|apply-update [options]   (see docs/county.md, "Fleet")
  --url URL (the broker)  --username U  --password-file F  --root village  --mqtt-version 4|5
  --gateways a,b | --group G --groups FILE    --json
  --key FILE --key-id ID (sign commands with the county's ed25519 private key, PEM)
  list:          --timeout 5 (s for a status reply)  --settle 1000 (ms for retained statuses)  --state FILE
  apply-config:  --patch FILE (RFC 7386 merge patch) | --file FILE (a whole config; each gateway keeps
                 its own gateway.id and dataDir)  --by NAME  --probation S  --timeout 20 (s per reply)
                 --verdict-timeout S (default probation + 90)
  apply-update:  --bundle-url URL (the bundle folder, as the gateways reach it) | --mqtt (pulled from the
                 county's update server over the broker: npm run county:update-server)  --version X  --by NAME
                 --timeout 300 (s for the reply: the gateway fetches the manifest first)
                 --probation S (the gateways' apply-step probation, default 180: for the default wait)
                 --verdict-timeout S (default probation + 300 + 1 s per 4,000 bytes to fetch)`;

const COMMANDS = ['list', 'apply-config', 'apply-update'] as const;
type Command = (typeof COMMANDS)[number];
const isCommand = (s: string | undefined): s is Command => COMMANDS.includes(s as Command);

export async function main(
  argv: string[],
  out: (line: string) => void = (s) => void process.stdout.write(`${s}\n`),
): Promise<number> {
  const { values: v, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
      username: { type: 'string' },
      'password-file': { type: 'string' },
      key: { type: 'string' },
      'key-id': { type: 'string' },
      root: { type: 'string', default: 'village' },
      'mqtt-version': { type: 'string', default: '4' },
      gateways: { type: 'string' },
      group: { type: 'string' },
      groups: { type: 'string' },
      json: { type: 'boolean', default: false },
      timeout: { type: 'string' },
      settle: { type: 'string', default: '1000' },
      state: { type: 'string' },
      patch: { type: 'string' },
      file: { type: 'string' },
      'bundle-url': { type: 'string' },
      mqtt: { type: 'boolean', default: false },
      version: { type: 'string' },
      by: { type: 'string', default: 'county-villages' },
      probation: { type: 'string' },
      'verdict-timeout': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (v.help) return (out(HELP), 0);
  const [cmd, ...extra] = positionals;
  if (extra.length > 0 || !isCommand(cmd)) throw usage(`${COMMANDS.join(', ')}\n${HELP}`);
  const version = v['mqtt-version'] === '5' ? 5 : v['mqtt-version'] === '4' ? 4 : null;
  if (!version) throw usage('--mqtt-version is 4 or 5');
  const password = v['password-file'] ? readSecret(v['password-file']) : process.env.VILLAGES_PASSWORD;
  const gateways = targets(v);
  const signer = readSigner(v.key, v['key-id']);
  // Everything read and checked before the county's broker hears anything.
  const make = cmd === 'apply-config' ? configMaker(v) : null;
  const update = cmd === 'apply-update' ? release(v) : null;
  const known = cmd === 'list' ? readState(v.state) : {};
  if (cmd !== 'list' && !gateways) throw usage(`${cmd} needs --gateways or --group`);
  const timeoutMs = num('timeout', v.timeout, { list: 5, 'apply-config': 20, 'apply-update': 300 }[cmd], 3600) * 1000;
  const settleMs = num('settle', v.settle, 1000, 60_000);
  const probationSec = v.probation === undefined ? undefined : num('probation', v.probation, 120, 3600);
  // The agent takes whole seconds only (config.apply's probationSec).
  if (probationSec !== undefined && !Number.isInteger(probationSec)) throw usage('--probation is whole seconds');
  const verdictSec =
    v['verdict-timeout'] === undefined ? undefined : num('verdict-timeout', v['verdict-timeout'], 1, 86_400);
  const link = await CountyLink.open({
    url: v.url,
    root: v.root,
    protocolVersion: version,
    ...(v.username !== undefined ? { username: v.username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(signer ? { signer } : {}),
  });
  const report = <R extends WaveResult>(results: R[], format: (r: R[]) => string) => {
    out(v.json ? JSON.stringify({ ok: wavesOk(results), gateways: results }) : format(results));
    return wavesOk(results) ? 0 : 1;
  };
  const progress = v.json ? {} : { onResult: (r: WaveResult) => out(`wave ${r.wave}  ${r.gatewayId}  ${r.outcome}`) };
  try {
    if (make) {
      const results = await applyConfigInWaves(link, {
        gateways: gateways!,
        make,
        by: v.by,
        ...(probationSec ? { probationSec } : {}),
        replyTimeoutMs: timeoutMs,
        verdictTimeoutMs: (verdictSec ?? (probationSec ?? 120) + 90) * 1000,
        ...progress,
      });
      return report(results, formatConfigResults);
    }
    if (update) {
      const o: UpdateWaveOptions = { gateways: gateways!, ...update, by: v.by, replyTimeoutMs: timeoutMs, ...progress };
      if (probationSec) o.probationSec = probationSec;
      if (verdictSec) o.verdictTimeoutMs = verdictSec * 1000;
      return report(await applyUpdateInWaves(link, o), formatUpdateResults);
    }
    const rows = await listGateways(link, { ...(gateways ? { gateways } : {}), timeoutMs, settleMs, known });
    if (v.state)
      writeState(v.state, {
        ...known,
        ...Object.fromEntries(rows.flatMap((r) => (r.answering && r.values ? [[r.gatewayId, r.values]] : []))),
      });
    out(v.json ? JSON.stringify({ gateways: rows }) : formatRows(rows));
    return rows.every((r) => r.answering) ? 0 : 1;
  } finally {
    await link.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`villages: ${err instanceof GatewayError ? `${err.code}: ` : ''}${errorMessage(err)}\n`);
      process.exitCode = err instanceof GatewayError ? 2 : 1; // ours are all about the input; else the broker
    },
  );
}
