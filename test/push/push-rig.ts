/** A gateway run through the built CLI with a county on a real broker, for config.get / config.apply tests. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { CountySubscriber, ReceivedEvent } from '../../scripts/county-subscriber.js';
import { AgentChild } from '../helpers/agent-child.js';
import { startCounty } from '../helpers/delivery.js';
import { waitUntil } from '../helpers/wait.js';

export type Reply = {
  id: string;
  ok: boolean;
  result?: Record<string, unknown>;
  error?: { code: string; message: string };
};

export function baseConfig(gatewayId: string, dir: string, url: string) {
  return {
    version: 1,
    gateway: { id: gatewayId },
    dataDir: join(dir, 'data'),
    log: { level: 'error' },
    clock: { synced: 'always' },
    health: { intervalSec: 3600 },
    mqtt: { url, protocolVersion: 4, willDelaySec: 0, reconnect: { minMs: 100, maxMs: 1000 } },
    devices: [{ id: 'meter', driver: 'synthetic', rates: { doorPerSec: 0, buttonPerSec: 0, telemetryPerSec: 1 } }],
  };
}

export class PushRig {
  readonly file: string;
  county!: CountySubscriber;
  agent!: AgentChild;
  readonly statuses: Record<string, unknown>[] = [];
  readonly replies: Reply[] = [];
  readonly events: ReceivedEvent[] = [];
  private n = 0;

  constructor(
    readonly gatewayId: string,
    readonly dir: string,
    readonly url: string,
    private readonly cleanup: (fn: () => unknown) => void,
    /** The agent's environment (secrets the config names as {env}). */
    private readonly env: Record<string, string> = {},
  ) {
    this.file = join(dir, 'gateway.yaml');
  }

  async start(config: Record<string, unknown>): Promise<string> {
    writeFileSync(this.file, stringify(config));
    return this.begin();
  }

  /** Starts the county and the agent with the config file already written; returns the config hash it runs. */
  async begin(): Promise<string> {
    this.county = await startCounty(this.url, this.cleanup, `county-${this.gatewayId}`);
    this.county.on('status', (_t, b) => this.statuses.push(b as Record<string, unknown>));
    this.county.on('event', (ev: ReceivedEvent) => this.events.push(ev));
    this.county.client!.on(
      'message',
      (t, p) => t.includes('/cmd-reply/') && this.replies.push(JSON.parse(p.toString()) as Reply),
    );
    await this.county.client!.subscribeAsync(`village/${this.gatewayId}/cmd-reply/+`, { qos: 1 });
    this.startAgent();
    return this.onlineWith(null);
  }

  startAgent(): void {
    this.agent = new AgentChild(this.file, this.env).start();
    const a = this.agent;
    this.cleanup(() => a.kill('SIGTERM'));
  }

  /** Waits for an online status (with `hash`, or any) newer than those seen so far; returns its configHash. */
  async onlineWith(hash: string | null, timeoutMs = 15_000, after = 0): Promise<string> {
    const match = (s: Record<string, unknown>) => s.state === 'online' && (hash === null || s.configHash === hash);
    await waitUntil(() => this.statuses.slice(after).some(match), timeoutMs, `online with ${hash ?? 'any config'}`);
    return this.statuses.slice(after).find(match)!.configHash as string;
  }

  async command(name: string, args: Record<string, unknown> = {}): Promise<Reply> {
    const id = `c${++this.n}`;
    const body = { id, args, sentAt: Date.now(), expiresAt: Date.now() + 60_000 };
    await this.county.client!.publishAsync(`village/${this.gatewayId}/cmd/${name}`, JSON.stringify(body), { qos: 1 });
    await waitUntil(() => this.replies.some((r) => r.id === id), 10_000, `the reply to ${name}`);
    return this.replies.find((r) => r.id === id)!;
  }

  /** Publishes a payload as it is (a signed envelope, a forgery) and waits for the reply with `id`. */
  async send(name: string, payload: string, id: string): Promise<Reply> {
    const before = this.replies.filter((r) => r.id === id).length; // a replay's id has been answered before
    await this.county.client!.publishAsync(`village/${this.gatewayId}/cmd/${name}`, payload, { qos: 1 });
    await waitUntil(
      () => this.replies.filter((r) => r.id === id).length > before,
      10_000,
      `the reply to ${name} ${id}`,
    );
    return this.replies.filter((r) => r.id === id).at(-1)!;
  }

  async event(type: string, timeoutMs = 20_000): Promise<ReceivedEvent> {
    await waitUntil(() => this.events.some((e) => e.type === type), timeoutMs, type);
    return this.events.find((e) => e.type === type)!;
  }
}
