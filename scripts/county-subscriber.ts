/**
 * A county-side subscriber to start from: receives every gateway's events (single, JSON
 * batches on `<prefix>/events`, compact batches on `<prefix>/events/batch`), de-duplicates by
 * event id, and orders by gateway and seq. Works against any
 * MQTT broker. Uses a persistent session so nothing is missed while it is away.
 *
 *   node dist/scripts/county-subscriber.js --url mqtt://broker:1883 [--prefix village] [--id county-1] [--share GROUP] [--arrivals]
 *
 * With --share GROUP it subscribes `$share/GROUP/<filter>`: the broker hands each message to one
 * member of the group, so K subscribers with the same group split the county's load (each needs
 * its own --id; de-duplicate across them, e.g. on the event id in the database they write to).
 *
 * prints one JSON line per new (not duplicate) event, or with --arrivals every copy that
 * arrives (duplicates included, so `check-delivery --file` can judge them too), and a summary
 * on Ctrl-C.
 *
 * No message can stop it: every payload is decoded within `WIRE_LIMITS` (size, nesting depth,
 * event count), and a message that cannot be read, or whose handling throws, is counted and
 * reported with its topic and reason (`unreadable`), and acknowledged like any other. mqtt.js
 * sends the PUBACK once the 'message' handlers have returned; a handler that threw would leave
 * it unsent, and the broker would redeliver the message to the persistent session at every
 * restart, forever.
 */
import { EventEmitter } from 'node:events';
import { parseArgs } from 'node:util';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { errorMessage } from '../core/kernel/errors.js';
import { eventsOfMessage, eventsTopicKind, parseJsonMessage } from './county/decode-message.js';
import { LogBudget, unreadableLine } from './county/unreadable-log.js';
import { gatewayIdMismatch } from './county/topic-gateway.js';
import { PictureAssembler, type AssembledPicture } from './county/picture-assembler.js';
import { MEDIA_SUBTOPIC } from '../core/contracts/media-chunk.js';

export interface ReceivedEvent {
  id: string;
  seq: number;
  gatewayId: string;
  deviceId: string;
  type: string;
  priority: string;
  ts: string;
  data: Record<string, unknown>;
  [k: string]: unknown;
}

export interface CountySubscriberOptions {
  url: string;
  /** Topic prefix root; gateways publish under `<root>/<gatewayId>/...`. */
  root?: string;
  clientId?: string;
  protocolVersion?: 4 | 5;
  /** A shared-subscription group: subscribe `$share/<share>/<filter>` (one member of the group gets each message). */
  share?: string;
  mqttOptions?: IClientOptions;
  /** Save each whole picture here as `<gatewayId>-<pictureId>.jpg` (--pictures DIR). */
  pictureDir?: string;
}

export class CountySubscriber extends EventEmitter<{
  arrival: [unknown];
  event: [ReceivedEvent, number];
  duplicate: [ReceivedEvent];
  status: [string, unknown];
  /** A picture put together whole, its hash verified, and the gateway it came from. */
  picture: [AssembledPicture, string];
  /** A picture's chunk arrived (duplicates too): the gateway, the picture and the index. */
  chunk: [string, string, number];
  /** Every picture chunk message as it came (the delivery checker puts pictures together itself): gateway, the topic's picture id, payload. */
  media: [string, string, Buffer];
  /** A message that could not be read (or whose handling threw): its topic and why. Acknowledged all the same. */
  unreadable: [string, string];
}> {
  readonly events = new Map<string, ReceivedEvent>();
  duplicates = 0;
  messages = 0;
  /** Messages that could not be read at all (their events, if any, are unknown). */
  unreadable = 0;
  /** Arrivals inside a readable message that are not events (no string id). */
  malformed = 0;
  lastError: string | null = null;
  /** The topic and reason of the last unreadable message. */
  lastUnreadable: string | null = null;
  client: MqttClient | null = null;
  private readonly root: string;
  /** Pictures put together, by id (their bytes included). */
  readonly pictures = new Map<string, AssembledPicture>();
  private readonly assembler = new PictureAssembler();

  constructor(private readonly opts: CountySubscriberOptions) {
    super();
    this.root = opts.root ?? 'village';
  }

  async start(): Promise<this> {
    const client = mqtt.connect(this.opts.url, {
      clientId: this.opts.clientId ?? `county-${process.pid}`,
      clean: false,
      protocolVersion: this.opts.protocolVersion ?? 4,
      reconnectPeriod: 500,
      ...(this.opts.protocolVersion === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}),
      ...this.opts.mqttOptions,
    });
    this.client = client;
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    // A lasting listener: an error after the first connect (a broker restart) must not crash the county.
    client.on('error', (err) => (this.lastError = err.message));
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    const filters = [
      `${this.root}/+/events`,
      `${this.root}/+/events/batch`,
      `${this.root}/+/health`,
      `${this.root}/+/status`,
      `${this.root}/+/${MEDIA_SUBTOPIC}/+`,
    ];
    const shared = this.opts.share === undefined ? '' : `$share/${this.opts.share}/`;
    await client.subscribeAsync(
      filters.map((f) => shared + f),
      { qos: 1 },
    );
    return this;
  }

  /** Whether `topic` is a picture chunk's (`<root>/<gatewayId>/media/<pictureId>`). */
  isMediaTopic(topic: string): boolean {
    const rest = topic.startsWith(`${this.root}/`) ? topic.slice(this.root.length + 1).split('/') : [];
    return rest.length === 3 && rest[1] === MEDIA_SUBTOPIC;
  }

  private onMessage(topic: string, payload: Buffer): void {
    // The client may carry other subscriptions (command replies, in tests and the demo): not events.
    const rest = topic.startsWith(`${this.root}/`) ? topic.slice(this.root.length + 1).split('/') : [];
    if (this.isMediaTopic(topic)) return this.onChunk(topic, rest[0]!, payload);
    const kind = eventsTopicKind(rest);
    const other = rest.length === 2 && ['health', 'status'].includes(rest[1]!);
    if (!kind && !other) return;
    this.messages += 1;
    let stage = 'decode';
    try {
      const list: ReceivedEvent[] = kind
        ? (eventsOfMessage(kind, payload) as ReceivedEvent[])
        : [parseJsonMessage(payload) as ReceivedEvent];
      const mismatch = gatewayIdMismatch(rest[0]!, list);
      if (mismatch) throw new Error(mismatch);
      stage = 'handler';
      if (rest[1] === 'status') return void this.emit('status', topic, list[0]);
      this.deliver(list);
    } catch (err) {
      // A corrupt, truncated or hostile payload, or a listener that choked on it: counted and
      // said, never a crash, and returning lets mqtt.js acknowledge it.
      const why = stage === 'decode' ? errorMessage(err) : `a listener failed: ${errorMessage(err)}`;
      this.unreadable += 1;
      this.lastUnreadable = `${topic}: ${why}`;
      try {
        this.emit('unreadable', topic, why);
      } catch (inner) {
        // Not even the report may stop the client: the count and lastUnreadable still say it.
        this.lastError = `an 'unreadable' listener failed: ${errorMessage(inner)}`;
      }
    }
  }

  /** A picture's chunk (core/contracts/media-chunk.ts): the assembler keeps it until the picture is whole. */
  private onChunk(topic: string, gatewayId: string, payload: Buffer): void {
    this.messages += 1;
    try {
      this.emit('media', gatewayId, topic.slice(topic.lastIndexOf('/') + 1), payload);
    } catch (err) {
      this.lastError = `a media listener failed: ${errorMessage(err)}`;
    }
    const out = this.assembler.receive(payload);
    try {
      if (out.kind === 'refused') {
        this.unreadable += 1;
        this.lastUnreadable = `${topic}: ${out.reason}`;
        return void this.emit('unreadable', topic, out.reason);
      }
      const index = /"i":(\d+)/.exec(payload.subarray(0, 64).toString('latin1'));
      this.emit('chunk', gatewayId, out.kind === 'picture' ? out.picture.id : out.id, Number(index?.[1] ?? -1));
      if (out.kind !== 'picture') return;
      this.pictures.set(out.picture.id, out.picture);
      if (this.opts.pictureDir)
        writeFileSync(join(this.opts.pictureDir, `${gatewayId}-${out.picture.id}.jpg`), out.picture.bytes);
      this.emit('picture', out.picture, gatewayId);
    } catch (err) {
      this.lastError = `a picture listener or the save failed: ${errorMessage(err)}`;
    }
  }

  private deliver(list: ReceivedEvent[]): void {
    const arrivedMs = Date.now();
    for (const ev of list) {
      this.emit('arrival', ev); // every copy, before de-duplication: what the delivery checker judges
      if (typeof ev?.id !== 'string') {
        this.malformed += 1;
        continue;
      }
      if (this.events.has(ev.id)) {
        this.duplicates += 1;
        this.emit('duplicate', ev);
        continue;
      }
      this.events.set(ev.id, ev);
      this.emit('event', ev, arrivedMs);
    }
  }

  /** Events of a gateway in seq order. */
  ordered(gatewayId?: string): ReceivedEvent[] {
    return [...this.events.values()]
      .filter((e) => gatewayId === undefined || e.gatewayId === gatewayId)
      .sort((a, b) => (a.gatewayId < b.gatewayId ? -1 : a.gatewayId > b.gatewayId ? 1 : a.seq - b.seq));
  }

  /** Resolves once `predicate` holds, checking after each new event. */
  waitFor(predicate: () => boolean, timeoutMs: number): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(`county subscriber: condition not met within ${timeoutMs} ms (have ${this.events.size} events)`),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.off('event', check);
        this.off('status', check);
      };
      this.on('event', check);
      this.on('status', check);
    });
  }

  async stop(): Promise<void> {
    await this.client?.endAsync();
    this.client = null;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      prefix: { type: 'string' },
      id: { type: 'string' },
      share: { type: 'string' },
      arrivals: { type: 'boolean' },
      pictures: { type: 'string' },
    },
  });
  if (!values.url || (values.share !== undefined && !/^[^/+#]+$/.test(values.share))) {
    console.error(
      'usage: county-subscriber --url mqtt://host:1883 [--prefix village] [--id county-1] [--share GROUP] [--arrivals] [--pictures DIR]\n' +
        '  --pictures DIR save each whole picture (hash verified) as DIR/<gatewayId>-<pictureId>.jpg\n' +
        '  --share GROUP  subscribe $share/GROUP/...: members of a group split the messages (GROUP: no /, + or #)',
    );
    process.exit(2);
  }
  const sub = new CountySubscriber({
    url: values.url,
    ...(values.prefix ? { root: values.prefix } : {}),
    ...(values.id ? { clientId: values.id } : {}),
    ...(values.share !== undefined ? { share: values.share } : {}),
    ...(values.pictures ? { pictureDir: values.pictures } : {}),
  });
  if (values.pictures) mkdirSync(values.pictures, { recursive: true });
  sub.on('picture', (pic, gatewayId) =>
    console.error(`picture ${gatewayId} ${pic.id} ${pic.cameraId} ${pic.size} bytes sha256 ${pic.sha256}`),
  );
  if (values.arrivals) sub.on('arrival', (ev) => console.log(JSON.stringify(ev)));
  else sub.on('event', (ev) => console.log(JSON.stringify(ev)));
  sub.on('status', (topic, body) => console.error(`status ${topic}: ${JSON.stringify(body)}`));
  const log = new LogBudget((line) => console.error(line));
  sub.on('unreadable', (topic, why) => log.line(unreadableLine(topic, why)));
  await sub.start();
  const group = values.share === undefined ? '' : ` (shared group ${values.share})`;
  console.error(
    `subscribed to ${values.prefix ?? 'village'}/+/events, events/batch, health, status and media on ${values.url}${group}`,
  ); // scripts wait for this line
  process.once('SIGINT', () => {
    log.flush();
    console.error(
      JSON.stringify({
        events: sub.events.size,
        duplicates: sub.duplicates,
        malformed: sub.malformed,
        unreadable: sub.unreadable,
        pictures: sub.pictures.size,
      }),
    );
    void sub.stop().then(() => process.exit(0));
  });
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
