/**
 * The agent's side of village-link for the node tests: the transport is our own edge (the
 * Node-RED child wires it to process IPC), so this fake speaks the IPC messages of the plan.
 */
import { createRequire } from 'node:module';
import { expect } from 'vitest';

const require = createRequire(import.meta.url);

export interface LinkError extends Error {
  code: string;
}
export interface Link {
  connected: boolean;
  attach(t: Transport): void;
  detach(): void;
  onEvent(l: (event: unknown, meta: { tags: string[] }) => void): () => void;
  request(kind: string, args?: unknown, options?: { timeoutMs?: number }): Promise<unknown>;
  timeoutMs: number;
  stats: Record<string, number>;
  receive(msg: unknown): void;
}
export interface Transport {
  send(msg: unknown): void;
  onMessage(cb: (msg: unknown) => void): () => void;
}

export const link = require('../../flows/nodes/village-link.js') as Link & {
  VillageLink: new (o?: { timeoutMs?: number }) => Link;
};

/** The agent's side of the link: records requests, answers them as told, pushes events. */
export class FakeAgent implements Transport {
  readonly requests: { id: number; kind: string; args: Record<string, unknown> }[] = [];
  answer: (
    kind: string,
    args: Record<string, unknown>,
  ) => { ok: true; result: unknown } | { ok: false; error: { code: string; message: string } } | null = () => ({
    ok: true,
    result: {},
  });
  private cb: ((msg: unknown) => void) | null = null;
  send(msg: unknown): void {
    const m = msg as { t: string; id: number; kind: string; args: Record<string, unknown> };
    expect(m.t).toBe('request');
    this.requests.push({ id: m.id, kind: m.kind, args: m.args });
    const a = this.answer(m.kind, m.args);
    if (a) setImmediate(() => this.cb?.({ t: 'reply', id: m.id, ...a }));
  }
  onMessage(cb: (msg: unknown) => void): () => void {
    this.cb = cb;
    return () => {
      this.cb = null;
    };
  }
  push(event: Partial<Ev> & { type: string; deviceId: string }, tags: string[] = []): void {
    this.cb?.({ t: 'event', event: ev(event), tags });
  }
}

export interface Ev {
  id: string;
  seq: number;
  bootId: string;
  gatewayId: string;
  deviceId: string;
  type: string;
  priority: string;
  ts: string;
  monoMs: number;
  clockSynced: boolean;
  data: Record<string, unknown>;
}
let seq = 0;
export function ev(e: Partial<Ev> & { type: string; deviceId: string }): Ev {
  seq++;
  return {
    id: `0190f1e2-0000-7000-8000-${String(seq).padStart(12, '0')}`,
    seq,
    bootId: '7d9e1c2a-5b4f-4e3d-9c8b-1a2b3c4d5e6f',
    gatewayId: 'gw-test',
    priority: 'high',
    ts: new Date().toISOString(),
    monoMs: seq,
    clockSynced: true,
    data: { line: 1 },
    ...e,
  };
}
