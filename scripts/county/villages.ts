/**
 * The county's tool for its villages (docs/county.md, "Fleet"), over MQTT with the county's login:
 *
 *   node dist/scripts/county/villages.js list [--gateways a,b | --group G] [--json] [--state FILE]
 *   node dist/scripts/county/villages.js apply-config --patch p.json | --file cfg.yaml (--gateways a,b | --group G)
 *
 * Common: --url mqtt://county:1883 --username U (password from --password-file or VILLAGES_PASSWORD,
 * never the command line: it would be in every `ps`), --root village, --mqtt-version 4|5,
 * --groups FILE (`{groups: {name: [ids]}}`, YAML or JSON), --key FILE --key-id ID (sign every command
 * with the county's ed25519 key, for gateways with county.keys). Exit 0: all well; 1: a gateway did not
 * answer, or a push stopped (rollback, refusal, timeout); 2: usage or input error.
 * (Not scripts/county/fleet.ts: that is a load benchmark of simulated gateways.)
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { errorMessage, GatewayError } from '../../core/kernel/errors.js';
import { mergePatch } from './merge-patch.js';
import { readPrivateKey } from './signed-envelope.js';
import { CountyLink } from './villages-link.js';
import { formatRows, listGateways, readState, writeState } from './villages-list.js';
import { applyInWaves, formatResults, wavesOk } from './villages-waves.js';

const HELP = `usage: villages list|apply-config [options]   (see the top of scripts/county/villages.ts)
  --url URL  --username U  --password-file F  --root village  --mqtt-version 4|5
  --gateways a,b | --group G --groups FILE    --json
  --key FILE --key-id ID (sign commands with the county's ed25519 private key, PEM)
  list:          --timeout 5 (s for a status reply)  --settle 1000 (ms for retained statuses)  --state FILE
  apply-config:  --patch FILE (RFC 7386 merge patch) | --file FILE (a whole config; each gateway keeps
                 its own gateway.id and dataDir)  --by NAME  --probation S  --timeout 20 (s per reply)
                 --verdict-timeout S (default probation + 90)`;

const usage = (m: string) => new GatewayError('USAGE', m);

const groupsSchema = z.strictObject({ groups: z.record(z.string(), z.array(z.string().min(1)).min(1)) });

/** A YAML or JSON file (JSON is YAML), read and parsed, or a USAGE error naming it. */
function readDoc(file: string, what: string): unknown {
  try {
    return parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw usage(`${what} ${file}: ${errorMessage(err)}`);
  }
}

function targets(v: { gateways?: string; group?: string; groups?: string }): string[] | undefined {
  if (v.gateways && v.group) throw usage('give --gateways or --group, not both');
  if (v.gateways)
    return v.gateways
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (!v.group) return undefined;
  if (!v.groups) throw usage('--group needs --groups FILE');
  const g = groupsSchema.safeParse(readDoc(v.groups, '--groups'));
  if (!g.success) throw usage(`--groups ${v.groups}: ${z.prettifyError(g.error)}`);
  const ids = g.data.groups[v.group];
  if (!ids) throw usage(`no group ${v.group} in ${v.groups} (it has ${Object.keys(g.data.groups).join(', ')})`);
  return ids;
}

function readSecret(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw usage(`--password-file ${file}: ${errorMessage(err)}`);
  }
}

/** The county's signing key, when given (both --key and --key-id, or neither). */
function readSigner(file: string | undefined, keyId: string | undefined) {
  if (file === undefined && keyId === undefined) return null;
  if (file === undefined || keyId === undefined) throw usage('--key and --key-id go together');
  try {
    return { key: readPrivateKey(readFileSync(file, 'utf8')), keyId };
  } catch (err) {
    throw usage(`--key ${file}: ${errorMessage(err)}`);
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** How each gateway's new config is made from its running one. */
function maker(v: { patch?: string; file?: string }) {
  if (!v.patch === !v.file) throw usage('apply-config needs exactly one of --patch or --file');
  if (v.patch) {
    const patch = readDoc(v.patch, '--patch');
    if (!isObj(patch)) throw usage(`--patch ${v.patch}: a merge patch is a JSON object`);
    return (running: Record<string, unknown>) => mergePatch(running, patch) as Record<string, unknown>;
  }
  const whole = readDoc(v.file!, '--file');
  if (!isObj(whole)) throw usage(`--file ${v.file}: a config is an object`);
  // A push cannot change these (the gateway refuses it): one file fits a group with each keeping its own.
  return (running: Record<string, unknown>) => ({ ...whole, gateway: running.gateway, dataDir: running.dataDir });
}

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
      by: { type: 'string', default: 'county-villages' },
      probation: { type: 'string' },
      'verdict-timeout': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (v.help) return (out(HELP), 0);
  const [cmd, ...extra] = positionals;
  if (extra.length > 0 || (cmd !== 'list' && cmd !== 'apply-config')) throw usage(`list or apply-config\n${HELP}`);
  const num = (name: string, s: string | undefined, dflt: number, max: number) => {
    const n = s === undefined ? dflt : Number(s);
    if (!Number.isFinite(n) || n <= 0 || n > max) throw usage(`--${name} must be a number in (0, ${max}] (got ${s})`);
    return n;
  };
  const version = v['mqtt-version'] === '5' ? 5 : v['mqtt-version'] === '4' ? 4 : null;
  if (!version) throw usage('--mqtt-version is 4 or 5');
  const password = v['password-file'] ? readSecret(v['password-file']) : process.env.VILLAGES_PASSWORD;
  const gateways = targets(v);
  const signer = readSigner(v.key, v['key-id']);
  // Everything read and checked before the county's broker hears anything.
  const make = cmd === 'apply-config' ? maker(v) : null;
  const known = cmd === 'list' ? readState(v.state) : {};
  if (make && !gateways) throw usage('apply-config needs --gateways or --group');
  const timeoutMs = num('timeout', v.timeout, make ? 20 : 5, 600) * 1000;
  const settleMs = num('settle', v.settle, 1000, 60_000);
  const probationSec = v.probation === undefined ? undefined : num('probation', v.probation, 120, 3600);
  // The agent takes whole seconds only (config.apply's probationSec).
  if (probationSec !== undefined && !Number.isInteger(probationSec)) throw usage('--probation is whole seconds');
  const verdictMs = num('verdict-timeout', v['verdict-timeout'], (probationSec ?? 120) + 90, 7200) * 1000;
  const link = await CountyLink.open({
    url: v.url,
    root: v.root,
    protocolVersion: version,
    ...(v.username !== undefined ? { username: v.username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(signer ? { signer } : {}),
  });
  try {
    if (!make) {
      const rows = await listGateways(link, {
        ...(gateways ? { gateways } : {}),
        timeoutMs,
        settleMs,
        known,
      });
      if (v.state)
        writeState(v.state, {
          ...known,
          ...Object.fromEntries(rows.flatMap((r) => (r.answering && r.values ? [[r.gatewayId, r.values]] : []))),
        });
      out(v.json ? JSON.stringify({ gateways: rows }) : formatRows(rows));
      return rows.every((r) => r.answering) ? 0 : 1;
    }
    const results = await applyInWaves(link, {
      gateways: gateways!,
      make,
      by: v.by,
      ...(probationSec ? { probationSec } : {}),
      replyTimeoutMs: timeoutMs,
      verdictTimeoutMs: verdictMs,
      ...(v.json ? {} : { onResult: (r) => out(`wave ${r.wave}  ${r.gatewayId}  ${r.outcome}`) }),
    });
    out(v.json ? JSON.stringify({ ok: wavesOk(results), gateways: results }) : formatResults(results));
    return wavesOk(results) ? 0 : 1;
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
