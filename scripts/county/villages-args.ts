/**
 * The villages tool's input (villages.ts): files read and checked, gateways named, numbers in
 * range. Every problem is a USAGE error naming the option, thrown before the broker hears anything.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { errorMessage, GatewayError } from '../../core/kernel/errors.js';
import { releaseArgs } from '../../agent/commands/update.js';
import { mergePatch } from './merge-patch.js';
import { readPrivateKey } from './signed-envelope.js';

export const usage = (m: string) => new GatewayError('USAGE', m);

const groupsSchema = z.strictObject({ groups: z.record(z.string(), z.array(z.string().min(1)).min(1)) });

/** A YAML or JSON file (JSON is YAML), read and parsed, or a USAGE error naming it. */
function readDoc(file: string, what: string): unknown {
  try {
    return parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw usage(`${what} ${file}: ${errorMessage(err)}`);
  }
}

export function targets(v: { gateways?: string; group?: string; groups?: string }): string[] | undefined {
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

export function readSecret(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw usage(`--password-file ${file}: ${errorMessage(err)}`);
  }
}

/** The county's signing key, when given (both --key and --key-id, or neither). */
export function readSigner(file: string | undefined, keyId: string | undefined) {
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
export function configMaker(v: { patch?: string; file?: string }) {
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

/** The release to send: the agent's own checks (its `update` command's), so a typo stops here, not at the canary. */
const releaseSchema = releaseArgs;

/** Where the gateways get the release: a URL, or (`--mqtt`) the county's update server over the broker. */
export type ReleaseSource = { url: string; version: string } | { mqtt: true; version: string };

export function release(v: { 'bundle-url'?: string; version?: string; mqtt?: boolean }): ReleaseSource {
  if (v.mqtt) {
    if (v['bundle-url'] !== undefined) throw usage('apply-update takes --bundle-url URL or --mqtt, not both');
    const r = releaseSchema.shape.version.safeParse(v.version);
    if (!r.success) throw usage(`apply-update --mqtt needs --version X: ${r.error.issues[0]!.message}`);
    return { mqtt: true, version: r.data };
  }
  if (v['bundle-url'] === undefined || v.version === undefined)
    throw usage('apply-update needs --bundle-url URL (or --mqtt) and --version X');
  const r = releaseSchema.safeParse({ url: v['bundle-url'], version: v.version });
  if (!r.success)
    throw usage(
      r.error.issues.map((i) => `--${i.path[0] === 'url' ? 'bundle-url' : 'version'}: ${i.message}`).join('; '),
    );
  return r.data;
}

/** A number option in (0, max], or its default. */
export function num(name: string, s: string | undefined, dflt: number, max: number): number {
  const n = s === undefined ? dflt : Number(s);
  if (!Number.isFinite(n) || n <= 0 || n > max) throw usage(`--${name} must be a number in (0, ${max}] (got ${s})`);
  return n;
}
