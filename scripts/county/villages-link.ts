/**
 * The county's end of the villages tool (villages.ts): one MQTT client with the county's login
 * that reads the gateways' retained status, sends commands and waits for their replies, and
 * watches a gateway's events while a push is judged. Every message it reads is decoded within
 * the county's wire limits and checked with zod; one it cannot read is counted, never thrown
 * (a throwing handler would hold back the PUBACK).
 */
import type { KeyObject } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { z } from 'zod';
import { signCommand } from './signed-envelope.js';
import { errorMessage } from '../../core/kernel/errors.js';
import { eventsOfMessage, eventsTopicKind, parseJsonMessage } from './decode-message.js';

export interface LinkOptions {
  url: string;
  username?: string;
  password?: string;
  /** Topics are `<root>/<gatewayId>/...` (docs/county.md, "MQTT contract"). */
  root: string;
  protocolVersion: 4 | 5;
  mqtt?: IClientOptions;
  /** Gateways with county keys run only signed commands (docs/county.md, "Signed commands"). */
  signer?: { key: KeyObject; keyId: string };
}

/** A gateway's retained `<prefix>/status` (birth, will, clean stop). */
export const statusSchema = z.looseObject({
  state: z.enum(['online', 'offline']),
  gatewayId: z.string(),
  version: z.string().optional(),
  configHash: z.string().optional(),
  ts: z.string(),
  reason: z.string().optional(),
});
export type GatewayStatus = z.infer<typeof statusSchema>;

/** A command's reply (`<prefix>/cmd-reply/<name>`). */
export const replySchema = z.looseObject({
  id: z.string().optional(),
  ok: z.boolean(),
  result: z.unknown().optional(),
  error: z.looseObject({ code: z.string(), message: z.string() }).optional(),
});
export type CommandReply = z.infer<typeof replySchema>;

const eventSchema = z.looseObject({
  gatewayId: z.string(),
  type: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type LinkEvent = z.infer<typeof eventSchema>;

export class CountyLink extends EventEmitter<{ event: [LinkEvent]; unreadable: [string, string]; error: [Error] }> {
  /** Retained (and live) statuses by gateway, with when this tool received each. */
  readonly statuses = new Map<string, { status: GatewayStatus; receivedAt: number }>();
  unreadable = 0;
  lastError: string | null = null;
  private readonly pending = new Map<string, (r: CommandReply) => void>();
  private readonly subscribed = new Set<string>();
  private readonly prefix = `villages-${randomBytes(4).toString('hex')}`;
  private n = 0;

  private constructor(
    private readonly client: MqttClient,
    private readonly o: LinkOptions,
  ) {
    super();
    // A lasting listener: a broker blip mid-run is reconnected by mqtt.js, not a crash of the tool.
    client.on('error', (err) => (this.lastError = err.message));
    this.on('error', (err) => (this.lastError = err.message));
    client.on('message', (topic, payload) => {
      try {
        this.onMessage(topic, payload);
      } catch (err) {
        this.unreadable += 1;
        this.emit('unreadable', topic, errorMessage(err));
      }
    });
  }

  static async open(o: LinkOptions): Promise<CountyLink> {
    const client = await mqtt.connectAsync(o.url, {
      clientId: `villages-${process.pid}-${randomBytes(3).toString('hex')}`,
      clean: true, // a tool run, not a consumer: nothing should wait for it on the broker
      protocolVersion: o.protocolVersion,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
      ...o.mqtt,
    });
    return new CountyLink(client, o);
  }

  /** Subscribes to every gateway's retained status and waits `settleMs` for the broker to hand them over. */
  async readStatuses(settleMs: number): Promise<void> {
    await this.subscribe(`${this.o.root}/+/status`);
    await new Promise((res) => setTimeout(res, settleMs));
  }

  /** Subscribes to a gateway's events (both wire formats); they come out as 'event'. */
  watchEvents(gatewayId: string): Promise<void> {
    const p = `${this.o.root}/${gatewayId}`;
    return this.subscribe([`${p}/events`, `${p}/events/batch`]);
  }

  /**
   * Sends a command and waits for its reply; null when none came within `timeoutMs`. The
   * command expires when the wait does (payload `expiresAt`, and the MQTT 5 message expiry):
   * a gateway that was unreachable never runs it later, when nobody is waiting for its answer.
   */
  async command(gatewayId: string, name: string, args: unknown, timeoutMs: number): Promise<CommandReply | null> {
    const p = `${this.o.root}/${gatewayId}`;
    await this.subscribe(`${p}/cmd-reply/${name}`);
    const id = `${this.prefix}-${++this.n}`;
    const now = Date.now();
    const request = { id, args: args as Record<string, unknown>, sentAt: now, expiresAt: now + timeoutMs };
    const s = this.o.signer;
    const body = JSON.stringify(s ? signCommand(s.key, s.keyId, { ...request, command: name, gatewayId }) : request);
    let timer: NodeJS.Timeout | undefined;
    const reply = new Promise<CommandReply | null>((resolve) => {
      this.pending.set(id, resolve);
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    try {
      const v5 = this.o.protocolVersion === 5;
      await this.client.publishAsync(`${p}/cmd/${name}`, body, {
        qos: 1,
        ...(v5 ? { properties: { messageExpiryInterval: Math.max(1, Math.ceil(timeoutMs / 1000)) } } : {}),
      });
      return await reply;
    } finally {
      clearTimeout(timer);
      this.pending.delete(id);
    }
  }

  /** The first event from `gatewayId` that `match` accepts, or null after `timeoutMs`. */
  nextEvent(gatewayId: string, match: (e: LinkEvent) => boolean, timeoutMs: number): Promise<LinkEvent | null> {
    return new Promise((resolve) => {
      const done = (e: LinkEvent | null) => {
        clearTimeout(timer);
        this.off('event', on);
        resolve(e);
      };
      const on = (e: LinkEvent) => e.gatewayId === gatewayId && match(e) && done(e);
      const timer = setTimeout(() => done(null), timeoutMs);
      this.on('event', on);
    });
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }

  private async subscribe(filters: string | string[]): Promise<void> {
    const fresh = [filters].flat().filter((f) => !this.subscribed.has(f));
    if (fresh.length === 0) return;
    await this.client.subscribeAsync(fresh, { qos: 1 });
    for (const f of fresh) this.subscribed.add(f);
  }

  private onMessage(topic: string, payload: Buffer): void {
    const root = `${this.o.root}/`;
    if (!topic.startsWith(root)) return;
    const rest = topic.slice(root.length).split('/');
    const gatewayId = rest[0]!;
    const kind = eventsTopicKind(rest);
    if (kind) {
      for (const body of eventsOfMessage(kind, payload)) {
        const e = eventSchema.safeParse(body);
        if (e.success && e.data.gatewayId === gatewayId) this.emit('event', e.data);
      }
    } else if (rest.length === 2 && rest[1] === 'status') {
      if (payload.length === 0) return; // a cleared retained status: nothing to show
      const s = statusSchema.parse(parseJsonMessage(payload));
      // The topic says who it is (the ACL makes it trustworthy); a body claiming another is not filed.
      if (s.gatewayId !== gatewayId) throw new Error(`status names ${s.gatewayId}, its topic ${gatewayId}`);
      this.statuses.set(gatewayId, { status: s, receivedAt: Date.now() });
    } else if (rest.length === 3 && rest[1] === 'cmd-reply') {
      const r = replySchema.parse(parseJsonMessage(payload));
      if (r.id !== undefined) this.pending.get(r.id)?.(r);
    }
  }
}
