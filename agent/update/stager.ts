/**
 * The agent's half of a release update (the county's `update` command): reads the bundle's
 * manifest and signature from a source (source.ts: the county's URL, or its update server over
 * MQTT), then fetches in the background only the files
 * the running release does not already have (by sha256), each checked as it arrives, into
 * `<dataDir>/update/staging/`, and renames that to `update/ready` once all are fsynced: the
 * path unit then starts the root-side apply step (scripts/release/apply-update.ts), which
 * verifies the signature against root's county key. The agent never verifies it: it holds no
 * trust the root step would rely on, and a bundle it stages wrongly is refused there.
 * A failure removes staging and is reported as update.refused with the reason.
 */
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { EventInput } from '../../core/contracts/event.js';
import { errorMessage, GatewayError } from '../../core/kernel/errors.js';
import { PACKAGE_ROOT } from '../../core/kernel/package-root.js';
import { zlib } from '../../core/kernel/lazy-builtins.js';
import {
  MANIFEST,
  MANIFEST_GZ,
  MAX_MANIFEST_BYTES,
  SIGNATURE,
  issueLine,
  manifestSchema,
  type Manifest,
} from '../../core/contracts/release-manifest.js';
import type { BundleSource } from './source.js';

/** A signature is 64 bytes as base64 and a newline; anything much larger is not one. */
const MAX_SIG_BYTES = 1024;

export const updateDir = (dataDir: string) => join(dataDir, 'update');

/**
 * The manifest of the release this agent runs from: `<release>/manifest.json`, the release
 * being the folder that holds package.json and dist/ (package-root.ts). A dev checkout has none:
 * everything is fetched.
 */
export function runningManifest(file = join(PACKAGE_ROOT, 'manifest.json')): Manifest | null {
  try {
    return manifestSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return null;
  }
}

export interface StagerPorts {
  dataDir: string;
  gatewayId: string;
  running: string;
  /** Free bytes the outbox keeps for alarms: an update never eats into them. */
  reserveBytes: number;
  emit(e: EventInput): Promise<unknown>;
  /** The running release's manifest (null: fetch every file). */
  base: () => Manifest | null;
  /** Told of a background failure that could not even be reported (the event not stored). */
  lost(err: unknown): void;
}

export interface Accepted {
  accepted: true;
  version: string;
  files: number;
  bytes: number;
}

export class UpdateStager {
  private busy = false;

  constructor(private readonly p: StagerPorts) {}

  /**
   * Whether an update is being fetched, or staged and waiting for the root step. A `staging`
   * folder nobody fetches into (an agent stopped mid-fetch) does not count: the next start
   * removes it before it fetches.
   */
  pending(): boolean {
    return this.busy || existsSync(join(updateDir(this.p.dataDir), 'ready'));
  }

  /** Reads and checks the manifest, answers what will be fetched, and fetches it in the background. */
  async start(source: BundleSource, version: string): Promise<Accepted> {
    this.busy = true;
    try {
      const bytes = await manifestOf(source);
      const sig = await source.get(SIGNATURE, MAX_SIG_BYTES);
      const m = parseManifest(bytes, version);
      const have = new Set(Object.values(this.p.base()?.files ?? {}).map((f) => f.sha256));
      const wanted = Object.entries(m.files).filter(([, f]) => !have.has(f.sha256));
      const total = wanted.reduce((n, [, f]) => n + f.size, 0);
      this.checkRoom(total + bytes.length);
      void this.fetchAll(source, m, bytes, sig, wanted).finally(() => (this.busy = false));
      return { accepted: true, version: m.version, files: wanted.length, bytes: total };
    } catch (err) {
      this.busy = false;
      throw err;
    }
  }

  private checkRoom(bytes: number): void {
    let free = Infinity;
    try {
      const fs = statfsSync(this.p.dataDir);
      free = fs.bavail * fs.bsize;
    } catch {
      // unknown: the writes themselves will say (and staging is removed)
    }
    if (free - bytes < this.p.reserveBytes)
      throw new GatewayError(
        'UPDATE_NO_ROOM',
        `the update needs ${bytes} bytes and ${free} are free: it would leave less than the alarms' reserve (${this.p.reserveBytes})`,
      );
  }

  private async fetchAll(
    source: BundleSource,
    m: Manifest,
    bytes: Buffer,
    sig: Buffer,
    wanted: [string, Manifest['files'][string]][],
  ) {
    const dir = updateDir(this.p.dataDir);
    const staging = join(dir, 'staging');
    try {
      await rm(staging, { recursive: true, force: true });
      await mkdir(staging, { recursive: true, mode: 0o700 });
      const queue = [...wanted];
      const worker = async () => {
        for (let next = queue.shift(); next; next = queue.shift()) {
          const [path, f] = next;
          const file = join(staging, path);
          await mkdir(dirname(file), { recursive: true });
          await source.toFile(path, file, f);
        }
      };
      await Promise.all(Array.from({ length: Math.min(source.parallel, queue.length) }, worker));
      await writeSynced(join(staging, MANIFEST), bytes);
      await writeSynced(join(staging, SIGNATURE), sig);
      await syncDir(staging);
      await rename(staging, join(dir, 'ready')); // the path unit starts the root step on this
      await syncDir(dir);
    } catch (err) {
      await rm(staging, { recursive: true, force: true }).catch(() => undefined);
      const code = err instanceof GatewayError ? err.code : 'STAGING_FAILED';
      await this.p
        .emit({
          deviceId: this.p.gatewayId,
          type: 'update.refused',
          priority: 'critical',
          data: {
            from: this.p.running,
            to: m.version,
            reason: (err as Error).message,
            code,
            at: new Date().toISOString(),
          },
        })
        .catch((e: unknown) => this.p.lost(e));
    }
  }
}

/**
 * manifest.json's bytes (the signed ones): fetched gzipped where the bundle has manifest.json.gz
 * (~3x fewer bytes on the link), else as they are (a bundle of an older make-bundle).
 */
async function manifestOf(source: BundleSource): Promise<Buffer> {
  let packed: Buffer;
  try {
    packed = await source.get(MANIFEST_GZ, MAX_MANIFEST_BYTES);
  } catch (err) {
    if (err instanceof GatewayError && err.detail['absent'] === true) return source.get(MANIFEST, MAX_MANIFEST_BYTES);
    throw err;
  }
  try {
    return await promisify(zlib().gunzip)(packed, { maxOutputLength: MAX_MANIFEST_BYTES }); // off the event loop
  } catch (err) {
    throw new GatewayError('UPDATE_INVALID', `${MANIFEST_GZ}: ${errorMessage(err)}`);
  }
}

/** The manifest as the agent checks it: JSON, the schema, the version the county named. */
function parseManifest(bytes: Buffer, version: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new GatewayError('UPDATE_INVALID', `manifest.json is not JSON: ${(err as Error).message}`);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success)
    throw new GatewayError(
      'UPDATE_INVALID',
      `manifest.json: ${parsed.error.issues.slice(0, 3).map(issueLine).join('; ')}`,
    );
  if (parsed.data.version !== version)
    throw new GatewayError('UPDATE_INVALID', `manifest.json is release ${parsed.data.version}, not ${version}`);
  return parsed.data;
}

async function writeSynced(file: string, bytes: Buffer): Promise<void> {
  await writeFile(file, bytes, { mode: 0o600 });
  const fh = await open(file, 'r');
  await fh.sync().finally(() => fh.close());
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  await fh.sync().finally(() => fh.close());
}
