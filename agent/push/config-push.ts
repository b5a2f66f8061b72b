/**
 * The owner's (the CLI's) side of a county push: `config.get` shows the running config,
 * `config.apply` replaces the file only if the county knew which config it replaces, the new
 * one validates exactly as check-config says and names no secret in the clear; then it reloads
 * the way reload-config does, and the probation (probation.ts) judges it.
 */
import { readFileSync, rmSync } from 'node:fs';
import type { LoadedConfig } from '../../config/load-config.js';
import { GatewayError } from '../../core/kernel/errors.js';
import type { ReloadCheck } from '../config-lifecycle.js';
import { writeFileDurably } from '../durable-file.js';
import { DEFAULT_PROBATION_SEC, hashOf, prePushFile, pushOnProbation, writePushState } from './push-state.js';
import { inlineSecretPaths, redactSecrets } from './secrets.js';

/** config.get's reply stays well under a command reply's size (and the county's decoders'). */
const MAX_CONFIG_BYTES = 48 * 1024;

export interface ApplyArgs {
  config: unknown;
  expectedHash: string;
  by?: string;
  keyId?: string | null;
  probationSec?: number;
}

export interface PushPorts {
  file: string;
  running(): LoadedConfig;
  /** Device ids online now (judged again after the push). */
  devicesOnline(): string[];
  /** Validates the file and, if it can run, restarts the agent with it (reload-config's path). */
  reload(by: string): ReloadCheck;
  check(file: string): ReloadCheck;
  version: string;
}

export class ConfigPush {
  constructor(private readonly p: PushPorts) {}

  get() {
    const running = this.p.running();
    const reply = {
      configHash: running.hash,
      version: this.p.version,
      fileHash: this.fileHash(),
      config: redactSecrets(running.config),
    };
    if (JSON.stringify(reply).length > MAX_CONFIG_BYTES)
      throw new GatewayError(
        'CONFIG_INVALID',
        `the running config is over ${MAX_CONFIG_BYTES} bytes as JSON: read it on site`,
      );
    return reply;
  }

  apply(a: ApplyArgs) {
    const running = this.p.running();
    const file = this.p.file;
    if (a.expectedHash !== running.hash)
      throw new GatewayError(
        'CONFIG_CHANGED',
        `the running config is ${running.hash}, the push expected ${a.expectedHash}: read it again (config.get)`,
      );
    const onDisk = this.fileHash();
    if (onDisk !== running.hash)
      throw new GatewayError(
        'CONFIG_CHANGED',
        `the file on the gateway (${onDisk}) was edited on site and differs from the running config ${running.hash}`,
      );
    const pending = pushOnProbation(running.config.dataDir);
    if (pending) throw new GatewayError('CONFIG_PUSH_PENDING', `the previous ${pending} push is still on probation`);
    const inline = inlineSecretPaths(a.config);
    if (inline.length > 0)
      throw new GatewayError(
        'CONFIG_INLINE_SECRET',
        `secrets in the clear at ${inline.join(', ')}: use {file} or {env} refs the gateway holds`,
      );
    const text = `${JSON.stringify(a.config, null, 2)}\n`;
    // Checked where it will live (relative paths and profiles resolve from the file's folder).
    const staged = `${file}.push`;
    writeFileDurably(staged, text);
    let res: ReloadCheck;
    try {
      res = this.p.check(staged);
    } finally {
      rmSync(staged, { force: true });
    }
    if (!res.ok) {
      const what = res.code === 'CONFIG_INVALID' ? 'is invalid' : 'cannot run on this gateway';
      throw new GatewayError(
        res.code,
        `the pushed config ${what}; the running config stays: ${res.problems.join('; ')}`,
      );
    }
    if (res.next.config.gateway.id !== running.config.gateway.id)
      throw new GatewayError(
        'CONFIG_INVALID',
        'gateway.id: a push cannot change the gateway id (its topics and login go with it)',
      );
    if (res.next.config.dataDir !== running.config.dataDir)
      throw new GatewayError(
        'CONFIG_INVALID',
        'dataDir: a push cannot move the data folder (the outbox and the probation record live there)',
      );
    const newDir = running.config.dataDir;
    const probationSec = a.probationSec ?? DEFAULT_PROBATION_SEC;
    const keep = new Set(res.next.config.devices.map((d) => d.id));
    writeFileDurably(prePushFile(file), readFileSync(file, 'utf8'));
    // The record first: a power cut after it but before the new file finds the old hash on disk and drops it.
    writePushState(newDir, {
      phase: 'probation',
      hash: hashOf(text),
      previousHash: running.hash,
      by: a.by ?? 'county',
      keyId: a.keyId ?? null,
      since: Date.now(),
      probationSec,
      devicesOnline: this.p.devicesOnline().filter((id) => keep.has(id)),
    });
    writeFileDurably(file, text);
    const reloaded = this.p.reload('config.apply');
    if (!reloaded.ok) throw new GatewayError(reloaded.code, reloaded.problems.join('; '));
    return {
      accepted: true,
      configHash: reloaded.next.hash,
      previousHash: running.hash,
      probationSec,
      note: 'the agent restarts with it now; config.applied follows after probation, or config.rolled_back with the reason',
    };
  }

  private fileHash(): string | null {
    try {
      return hashOf(readFileSync(this.p.file, 'utf8'));
    } catch {
      return null;
    }
  }
}
