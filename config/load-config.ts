/**
 * Reads a config file (YAML or JSON), validates it, and resolves secrets. Every problem is
 * reported with its exact path, all at once, so a technician fixes a file in one pass.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { formatProblem, problemsFromZod, type ConfigProblem } from './zod-problems.js';
import { editorPasswordProblem, gatewayConfigSchema, type GatewayConfig } from './schema/gateway-config.js';
import type { SecretRef } from './schema/fields.js';
import type { DeviceProfile } from './schema/profile.js';
import { configKeysAt } from './known-keys.js';
import { partialConfig, type SecretsView } from './partial-config.js';
import { resolveProfiles } from './resolve-profiles.js';
import { parseYamlText, readYamlFile } from './safe-yaml.js';
import { GatewayError, errorMessage, foreignCode } from '../core/kernel/errors.js';

export type { ConfigProblem };
export { resolveProfiles };

export class ConfigError extends GatewayError {
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(
      'CONFIG_INVALID',
      `${file}: ${problems.length} problem(s)\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

/**
 * Parses text as YAML (JSON is YAML too) within the size, token, nesting and alias limits of
 * safe-yaml.ts; syntax errors become problems with line numbers. Prefer readConfigFile, which
 * also bounds the read itself.
 */
export function parseConfigText(text: string, file: string): unknown {
  const r = parseYamlText(text);
  if (!r.ok) throw new ConfigError(file, r.problems);
  return r.value;
}

/** Reads (bounded) and parses a config file; returns the text too, for the config hash. */
export function readConfigFile(file: string): { raw: unknown; text: string } {
  const r = readYamlFile(file);
  if (!r.ok) throw new ConfigError(file, r.problems);
  return { raw: r.value, text: r.text };
}

export function validateConfig(raw: unknown, file: string): GatewayConfig {
  const res = gatewayConfigSchema.safeParse(raw, { reportInput: true });
  if (!res.success)
    throw new ConfigError(
      file,
      problemsFromZod(res.error, (path) => configKeysAt(raw, path)),
    );
  return res.data;
}

export interface LoadedConfig {
  config: GatewayConfig;
  /** Short hash of the file, reported in the birth message so the county sees which config runs. */
  hash: string;
  file: string;
  /** Relative paths in the file are relative to its folder. */
  baseDir: string;
  /** The profile of each field device (Modbus, serial, modem), by device id; synthetic devices have none. */
  profiles: Map<string, DeviceProfile>;
}

/**
 * Reads, validates and resolves a config file. `schemaOnly` skips secrets and certificate
 * files (checking a config off the gateway); profiles are always checked.
 */
export function loadConfig(file: string, opts: { schemaOnly?: boolean } = {}): LoadedConfig {
  const { raw, text } = readConfigFile(file);
  const res = gatewayConfigSchema.safeParse(raw, { reportInput: true });
  // A file that fails its schema is still checked part by part (profiles, rules, secrets):
  // every problem in one pass.
  const view = res.success ? res.data : partialConfig(raw);
  const problems = res.success ? [] : problemsFromZod(res.error, (path) => configKeysAt(raw, path));
  const baseDir = dirname(resolve(file));
  const { profiles, problems: profileProblems } = resolveProfiles(view, baseDir);
  problems.push(...profileProblems, ...(opts.schemaOnly ? [] : checkSecretsAndFiles(view, baseDir)));
  if (!res.success || problems.length > 0) throw new ConfigError(file, problems);
  return {
    config: res.data,
    hash: createHash('sha256').update(text).digest('hex').slice(0, 12),
    file,
    baseDir,
    profiles,
  };
}

export const resolvePath = (baseDir: string, p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));

/** Resolves a secret reference; throws a message naming where it looked. */
export function resolveSecret(ref: SecretRef, baseDir: string): string {
  if (typeof ref === 'string') return ref;
  if ('env' in ref) {
    const v = process.env[ref.env];
    if (v === undefined) throw new GatewayError('SECRET_UNAVAILABLE', `environment variable ${ref.env} is not set`);
    return v;
  }
  try {
    return readFileSync(resolvePath(baseDir, ref.file), 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new GatewayError('SECRET_UNAVAILABLE', `cannot read secret file: ${errorMessage(err)}`, { cause: err });
  }
}

/** Where a secret came from, for a message (never its value). */
const where = (ref: SecretRef): string =>
  typeof ref === 'string' ? 'the config' : 'env' in ref ? `environment variable ${ref.env}` : `file ${ref.file}`;

function checkSecretsAndFiles(cfg: SecretsView, baseDir: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const secret = (ref: SecretRef | undefined, path: string, check: (value: string) => string | null = () => null) => {
    if (ref === undefined) return;
    try {
      const value = resolveSecret(ref, baseDir);
      const problem = check(value);
      if (problem) problems.push({ path, message: `${problem} (${where(ref)} has ${value.length} characters)` });
    } catch (err) {
      problems.push({ path, message: (err as Error).message });
    }
  };
  secret(cfg.mqtt?.password, 'mqtt.password');
  secret(cfg.mqtt?.tls?.keyPassphrase, 'mqtt.tls.keyPassphrase');
  secret(cfg.nodeRed?.credentialSecret, 'nodeRed.credentialSecret');
  cfg.devices?.forEach((d, i) => {
    if (d?.driver === 'camera') secret(d.password, `devices[${i}].password`);
  });
  cfg.nodeRed?.users.forEach((u, i) => secret(u.password, `nodeRed.users[${i}].password`, editorPasswordProblem));
  for (const key of ['ca', 'cert', 'key'] as const) {
    const p = cfg.mqtt?.tls?.[key];
    if (p === undefined) continue;
    try {
      readFileSync(resolvePath(baseDir, p));
    } catch (err) {
      problems.push({ path: `mqtt.tls.${key}`, message: `cannot read ${p}: ${foreignCode(err) ?? errorMessage(err)}` });
    }
  }
  if (cfg.mqtt?.tls && cfg.mqtt.url !== undefined && !/^(mqtts|ssl|wss):/.test(cfg.mqtt.url)) {
    problems.push({ path: 'mqtt.url', message: 'tls is configured, so the URL must use mqtts:// (or wss://)' });
  }
  return problems;
}
