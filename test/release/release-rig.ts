/**
 * A gateway root for the update tests: a county key pair, release 1.0.0 built by make-bundle
 * from this checkout and installed with install.sh --root, the county's public key where root
 * keeps it. Updates are staged as the agent would stage them (update/ready: the signed
 * manifest and only the changed files); the apply step and the stand-in supervisor run from
 * the installed release, as root runs them on a gateway.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { afterAll, beforeAll } from 'vitest';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { readStoredLines } from '../helpers/agent-child.js';
import { keygen } from '../../scripts/release/keygen.js';
import { makeBundle } from '../../scripts/release/make-bundle.js';
import { manifestSchema, sha256, signManifest, type Manifest } from '../../scripts/release/manifest.js';

export const CHECKOUT = fileURLToPath(new URL('../..', import.meta.url));
export const BASE_VERSION = '1.0.0';

export interface Rig {
  scratch: string;
  root: string;
  data: string;
  opt: string;
  key: { privateFile: string; publicFile: string };
  base: Manifest;
  baseDir: string;
}

export function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 300_000, env: { ...process.env, ...env } });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

export function makeRig(): Rig {
  const scratch = mkdtempSync(join(tmpdir(), 'vg-release-'));
  const root = join(scratch, 'root');
  const key = keygen(join(scratch, 'county'));
  const b = makeBundle({ from: CHECKOUT, out: join(scratch, 'bundles'), key: key.privateFile, version: BASE_VERSION });
  const inst = run('bash', [join(CHECKOUT, 'scripts/install.sh'), '--root', root, '--from', b.dir]);
  if (inst.code !== 0) throw new Error(`install.sh failed:\n${inst.out}`);
  const rig: Rig = {
    scratch,
    root,
    data: join(root, 'var/lib/village-gateway'),
    opt: join(root, 'opt/village-gateway'),
    key,
    base: manifestSchema.parse(JSON.parse(readFileSync(join(b.dir, 'manifest.json'), 'utf8'))),
    baseDir: b.dir,
  };
  trustKey(rig, readFileSync(key.publicFile, 'utf8'));
  return rig;
}

/** Puts a public key where the apply step reads it: root's, 0644. */
export function trustKey(rig: Rig, pem: string, uid = 0): void {
  const file = join(rig.root, 'etc/village-gateway/update-key.pem');
  writeFileSync(file, pem);
  chmodSync(file, 0o644);
  chownSync(file, uid, 0);
}

export const currentVersion = (rig: Rig) =>
  run('readlink', [join(rig.opt, 'current')])
    .out.trim()
    .replace('releases/', '');

/** The base release's file, from its bundle (install.sh removes the installed copy once newer releases replace it). */
export const baseFile = (rig: Rig, path: string) => readFileSync(join(rig.baseDir, path));

/** The base release's package.json under another version. */
export function packageJson(rig: Rig, version: string): Buffer {
  const pkg = JSON.parse(baseFile(rig, 'package.json').toString()) as Record<string, unknown>;
  return Buffer.from(JSON.stringify({ ...pkg, version }, null, 2) + '\n');
}

export interface StageOptions {
  /** Sign with this private key (PEM) instead of the county's. */
  signWith?: string;
  /** Changes the manifest after it is signed (the signature then covers other bytes). */
  afterSigning?: (m: Manifest) => Manifest;
  /** Changes the manifest before it is signed. */
  beforeSigning?: (m: Manifest) => Manifest;
  /** Files written into the folder as they are, after the manifest is made (a tampered file). */
  overwrite?: Record<string, Buffer>;
}

/** A code-only update of the base release: its manifest's bytes and signature (as make-bundle writes them). */
export function signedUpdate(rig: Rig, version: string, changes: Record<string, Buffer>, o: StageOptions = {}) {
  const files = { ...rig.base.files };
  for (const [path, bytes] of Object.entries(changes))
    files[path] = { sha256: sha256(bytes), size: bytes.length, mode: files[path]?.mode ?? 0o644 };
  let m: Manifest = { ...rig.base, version, createdAt: new Date().toISOString(), files };
  if (o.beforeSigning) m = o.beforeSigning(m);
  const signed = Buffer.from(JSON.stringify(m) + '\n');
  const sig = signManifest(signed, o.signWith ?? readFileSync(rig.key.privateFile, 'utf8'));
  const bytes = o.afterSigning ? Buffer.from(JSON.stringify(o.afterSigning(m)) + '\n') : signed;
  return { bytes, sig };
}

/** Stages a code-only update of the base release as the agent would: update/ready. */
export function stageUpdate(rig: Rig, version: string, changes: Record<string, Buffer>, o: StageOptions = {}): string {
  const { bytes, sig } = signedUpdate(rig, version, changes, o);
  const ready = join(rig.data, 'update/ready');
  rmSync(ready, { recursive: true, force: true });
  const write = (path: string, b: Buffer | string) => {
    mkdirSync(dirname(join(ready, path)), { recursive: true });
    writeFileSync(join(ready, path), b);
  };
  for (const [path, b] of Object.entries(changes)) write(path, b);
  for (const [path, b] of Object.entries(o.overwrite ?? {})) write(path, b);
  write('manifest.json', bytes);
  write('manifest.sig', sig);
  return ready;
}

/** The apply step of the installed release, as village-gateway-update.service runs it. */
export function applyNow(rig: Rig, probationSec = 5) {
  const step = join(rig.opt, 'current/dist/scripts/release/apply-update.js');
  return run(process.execPath, [step, '--root', rig.root, '--probation', String(probationSec)]);
}

export function readResult(rig: Rig): Record<string, unknown> {
  return JSON.parse(readFileSync(join(rig.data, 'update-result.json'), 'utf8')) as Record<string, unknown>;
}

/** The gateway config the agent runs in the root (its data folder is the root's). */
export function writeConfig(rig: Rig, url: string, devices: unknown[] = []): void {
  const config = {
    version: 1,
    gateway: { id: 'gw-update' },
    dataDir: rig.data,
    // As installed: the status view in RAM (the unit's RuntimeDirectory), where the apply step must look.
    runtimeDir: join(rig.root, 'run/village-gateway'),
    log: { level: 'error' },
    clock: { synced: 'always' },
    health: { intervalSec: 3600 },
    mqtt: { url, protocolVersion: 4, reconnect: { minMs: 100, maxMs: 1000, jitter: 0.2 }, willDelaySec: 0 },
    devices,
  };
  writeFileSync(join(rig.root, 'etc/village-gateway/gateway.yaml'), stringify(config));
}

/** The stand-in supervisor (this checkout's), its output collected; `stored` from --print-stored. */
export class Supervised {
  readonly stored = new Map<string, number>();
  output = '';
  private readonly proc: ChildProcess;
  private readonly ended: Promise<void>;

  constructor(rig: Rig, probationSec: number) {
    const script = join(CHECKOUT, 'dist/scripts/release/supervisor.js');
    this.proc = spawn(
      process.execPath,
      [script, '--root', rig.root, '--probation', String(probationSec), '--agent-arg', '--print-stored'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    readStoredLines(this.proc, this.stored, (line) => (this.output += `${line}\n`));
    this.proc.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.proc.on('error', (err) => (this.output += `supervisor error: ${err.message}\n`));
    this.ended = new Promise((resolve) => this.proc.once('exit', () => resolve()));
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGTERM');
    await this.ended;
  }
}

/** A rig and a broker for a test file's tests: made before them, removed after. */
export function useRig(brokerOptions: Parameters<typeof startBroker>[0]): { rig: Rig; broker: TestBroker } {
  const held = {} as { rig: Rig; broker: TestBroker };
  beforeAll(async () => {
    held.broker = await startBroker(brokerOptions);
    held.rig = makeRig();
  }, 300_000);
  afterAll(async () => {
    await held.broker?.dispose();
    if (held.rig) rmSync(held.rig.scratch, { recursive: true, force: true });
  }, 120_000);
  return held;
}
