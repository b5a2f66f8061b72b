/**
 * The county's update server for gateways that fetch a release over MQTT (`update {mqtt: true,
 * version}`; docs/county.md, "Releases"). It answers the gateways' requests on
 * `<root>/<gatewayId>/update/request` from bundle folders made by make-bundle (the whole bundle
 * or its `-delta` folder), one answer per request on `<root>/<gatewayId>/update/chunk`: a JSON
 * header line `{v, version, path, o, size, sha256?}`, a newline, the bytes
 * (core/contracts/update-chunk.ts). The gateway paces the transfer: the server only answers.
 *
 *   npm run county:update-server -- --url mqtt://county:1883 --bundle release-out/village-gateway-1.2.0-arm64-delta \
 *     [--bundle DIR ...] [--username U] [--password-file F | UPDATE_SERVER_PASSWORD] [--root village] [--mqtt-version 4|5]
 *
 * Only what a bundle's manifest names (and manifest.json, manifest.sig) is served, from inside its
 * folder: a path with `..`, an absolute one, or one that leads outside through a link is refused
 * BAD_PATH; a request that does not parse BAD_REQUEST; another release UNKNOWN_VERSION; a file
 * the folder lacks (a delta) NOT_IN_BUNDLE; an offset past the end BAD_OFFSET.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { parseArgs } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import {
  MANIFEST,
  MANIFEST_GZ,
  manifestSchema,
  SIGNATURE,
  type Manifest,
} from '../../core/contracts/release-manifest.js';
import {
  encodeUpdateChunk,
  UPDATE_CHUNK_SUBTOPIC,
  UPDATE_REQUEST_SUBTOPIC,
  updateRequestSchema,
  type UpdateChunkHeader,
  type updateServeErrors,
} from '../../core/contracts/update-chunk.js';
import { errorMessage, GatewayError } from '../../core/kernel/errors.js';
import { isMain } from '../release/is-main.js';

type ServeError = (typeof updateServeErrors)[number];

interface Bundle {
  dir: string;
  manifest: Manifest;
  /** sha256 of manifest.json, manifest.sig and manifest.json.gz (no manifest names them). */
  own: Map<string, string>;
}

class Refused extends Error {
  constructor(
    readonly code: ServeError,
    message: string,
  ) {
    super(message);
  }
}

/** A bundle folder's manifest and the sha256 of its own two files; throws USAGE naming the folder. */
export function readBundle(dir: string): Bundle {
  try {
    const real = realpathSync(dir);
    const bytes = readFileSync(join(real, MANIFEST));
    const manifest = manifestSchema.parse(JSON.parse(bytes.toString('utf8')));
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const own = new Map([
      [MANIFEST, sha(bytes)],
      [SIGNATURE, sha(readFileSync(join(real, SIGNATURE)))],
    ]);
    // Gzipped, what gateways ask for first; a bundle of an older make-bundle has none (they then ask for manifest.json).
    if (existsSync(join(real, MANIFEST_GZ))) own.set(MANIFEST_GZ, sha(readFileSync(join(real, MANIFEST_GZ))));
    return { dir: real, manifest, own };
  } catch (err) {
    throw new GatewayError('USAGE', `--bundle ${dir}: not a bundle folder (${errorMessage(err)})`);
  }
}

export class UpdateServer extends EventEmitter<{
  served: [gateway: string, path: string, o: number, bytes: number];
  refused: [gateway: string, code: ServeError, message: string];
  error: [Error];
}> {
  readonly counts = { requests: 0, served: 0, bytes: 0, refused: 0 };
  private readonly bundles = new Map<string, Bundle>();

  constructor(
    bundles: Bundle[],
    private readonly root = 'village',
  ) {
    super();
    for (const b of bundles) this.bundles.set(b.manifest.version, b);
  }

  /** Subscribes `<root>/+/update/request` and answers each request (QoS 1). */
  async attach(client: MqttClient): Promise<void> {
    client.on('message', (topic, payload) => {
      const gateway = this.gatewayOf(topic);
      if (gateway === null) return;
      void this.answer(payload, gateway).then(
        (answer) => client.publish(`${this.root}/${gateway}/${UPDATE_CHUNK_SUBTOPIC}`, answer, { qos: 1 }),
        (err: unknown) => this.emit('error', err as Error),
      );
    });
    await client.subscribeAsync(`${this.root}/+/${UPDATE_REQUEST_SUBTOPIC}`, { qos: 1 });
  }

  private gatewayOf(topic: string): string | null {
    const parts = topic.split('/');
    const want = [...this.root.split('/'), '+', ...UPDATE_REQUEST_SUBTOPIC.split('/')];
    if (parts.length !== want.length || !want.every((w, i) => w === '+' || w === parts[i])) return null;
    return parts[want.indexOf('+')]!;
  }

  /** The answer to one request's payload: the bytes, or a header with `error`. Never throws for what a gateway sent. */
  async answer(payload: Buffer, gateway: string): Promise<Buffer> {
    this.counts.requests += 1;
    let raw: unknown = null;
    try {
      raw = JSON.parse(payload.toString('utf8'));
    } catch {
      // answered below as BAD_REQUEST
    }
    const echo = echoOf(raw);
    try {
      const { header, data } = await this.serve(raw);
      this.counts.served += 1;
      this.counts.bytes += data.length;
      this.emit('served', gateway, header.path, header.o, data.length);
      return encodeUpdateChunk(header, data);
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
      this.counts.refused += 1;
      this.emit('refused', gateway, err.code, err.message);
      return encodeUpdateChunk({ v: 1, ...echo, error: { code: err.code, message: err.message.slice(0, 500) } });
    }
  }

  private async serve(raw: unknown): Promise<{ header: UpdateChunkHeader; data: Buffer }> {
    const req = updateRequestSchema.safeParse(raw);
    if (!req.success) {
      const issue = req.error.issues[0]!;
      throw new Refused(
        issue.path[0] === 'path' ? 'BAD_PATH' : 'BAD_REQUEST',
        `${issue.path.join('.') || 'request'}: ${issue.message}`,
      );
    }
    const { version, path, o, len } = req.data;
    const bundle = this.bundles.get(version);
    if (!bundle)
      throw new Refused(
        'UNKNOWN_VERSION',
        `release ${version} is not served here (${[...this.bundles.keys()].join(', ')})`,
      );
    if (!bundle.own.has(path) && !(path in bundle.manifest.files))
      throw new Refused('NOT_IN_BUNDLE', `${path} is not in release ${version}'s manifest`);
    const file = await inside(bundle.dir, path);
    const size = (await stat(file)).size;
    if (o > size) throw new Refused('BAD_OFFSET', `offset ${o} is past ${path}'s ${size} bytes`);
    const fh = await open(file, 'r');
    try {
      const data = Buffer.alloc(Math.min(len, size - o));
      const { bytesRead } = await fh.read(data, 0, data.length, o);
      const sha256 = bundle.own.get(path);
      const header = { v: 1 as const, version, path, o, size, ...(sha256 ? { sha256 } : {}) };
      return { header, data: data.subarray(0, bytesRead) };
    } finally {
      await fh.close();
    }
  }
}

/** `path` in `dir`, refused when it is not there or leads outside (a link). */
async function inside(dir: string, path: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(join(dir, path));
  } catch {
    throw new Refused('NOT_IN_BUNDLE', `${path} is not in this bundle folder (a delta carries only what changed)`);
  }
  if (!real.startsWith(dir + sep)) throw new Refused('BAD_PATH', `${path} leads outside the bundle folder`);
  return real;
}

/** What an error answer names of the request: what could be read of it, bounded to the header's limits. */
function echoOf(raw: unknown): { version: string; path: string; o: number } {
  const r = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  const str = (v: unknown, max: number) => (typeof v === 'string' ? v.slice(0, max) : '');
  const o = typeof r.o === 'number' && Number.isSafeInteger(r.o) && r.o >= 0 && r.o <= 1024 ** 3 ? r.o : 0;
  return { version: str(r.version, 64), path: str(r.path, 4096), o };
}

const HELP = `usage: update-server --bundle DIR [--bundle DIR ...] [--url mqtt://127.0.0.1:1883] [--username U]
  [--password-file F | UPDATE_SERVER_PASSWORD] [--root village] [--mqtt-version 4|5]`;

/** Runs the server until the process ends; null after --help. Throws USAGE for a wrong command line. */
export async function main(
  argv: string[],
  log = (s: string) => void process.stderr.write(`${s}\n`),
): Promise<MqttClient | null> {
  const options = {
    url: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
    bundle: { type: 'string', multiple: true },
    username: { type: 'string' },
    'password-file': { type: 'string' },
    root: { type: 'string', default: 'village' },
    'mqtt-version': { type: 'string', default: '4' },
    'client-id': { type: 'string' },
    help: { type: 'boolean', default: false },
  } as const;
  const args = (() => {
    try {
      return parseArgs({ args: argv, options });
    } catch (err) {
      throw new GatewayError('USAGE', `${errorMessage(err)}\n${HELP}`);
    }
  })();
  const v = args.values;
  if (v.help) {
    log(HELP);
    return null;
  }
  if (!v.bundle?.length) throw new GatewayError('USAGE', `at least one --bundle\n${HELP}`);
  const version = v['mqtt-version'] === '5' ? 5 : v['mqtt-version'] === '4' ? 4 : null;
  if (!version) throw new GatewayError('USAGE', '--mqtt-version is 4 or 5');
  const password = v['password-file']
    ? readFileSync(v['password-file'], 'utf8').trim()
    : process.env.UPDATE_SERVER_PASSWORD;
  const server = new UpdateServer(v.bundle.map(readBundle), v.root);
  server.on('error', (err) => log(`update-server: ${errorMessage(err)}`));
  server.on('refused', (gw, code, message) => log(`update-server: ${gw}: ${code}: ${message}`));
  const client = await mqtt.connectAsync(v.url!, {
    protocolVersion: version,
    clientId: v['client-id'] ?? `update-server-${process.pid}`,
    ...(v.username !== undefined ? { username: v.username } : {}),
    ...(password !== undefined ? { password } : {}),
  });
  client.on('error', (err) => log(`update-server: mqtt: ${err.message}`));
  await server.attach(client);
  log(`update-server: serving ${v.bundle.join(', ')} on ${v.root}/+/${UPDATE_REQUEST_SUBTOPIC}`);
  return client;
}

if (isMain(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (client) => {
      if (!client) return;
      const bye = () => void client.endAsync().then(() => process.exit(0));
      process.on('SIGINT', bye);
      process.on('SIGTERM', bye);
    },
    (err: unknown) => {
      process.stderr.write(`update-server: ${errorMessage(err)}\n`);
      process.exit(err instanceof GatewayError && err.code === 'USAGE' ? 2 : 1);
    },
  );
}
