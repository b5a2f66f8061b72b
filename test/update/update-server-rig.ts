/** The county's update server (scripts/county/update-server.ts) on a test broker, serving a hand-made bundle folder. */
import mqtt from 'mqtt';
import { readBundle, UpdateServer } from '../../scripts/county/update-server.js';
import { writeBundle } from './hand-bundle.js';

export interface ServerRig {
  server: UpdateServer;
  /** What it answered, in order: `path@offset`, or `CODE: message` for a refusal. */
  asked: string[];
}

/**
 * Serves `files` from `dir`. With `delayMs`, each answer waits that long before it goes (a link
 * slower than the loopback, so a transfer lasts long enough to press a button or cut the link in).
 */
export async function startUpdateServer(
  url: string,
  files: Map<string, Buffer>,
  dir: string,
  cleanup: (fn: () => unknown) => void,
  delayMs = 0,
): Promise<ServerRig> {
  const server = new UpdateServer([readBundle(writeBundle(dir, files))]);
  const asked: string[] = [];
  server.on('served', (_gw, path, o) => asked.push(`${path}@${o}`));
  server.on('refused', (_gw, code, message) => asked.push(`${code}: ${message}`));
  server.on('error', (err) => asked.push(`error: ${err.message}`));
  const client = await mqtt.connectAsync(url, { clientId: `update-server-${Math.random().toString(36).slice(2)}` });
  cleanup(() => client.endAsync(true));
  if (delayMs === 0) {
    await server.attach(client);
    return { server, asked };
  }
  client.on('message', (topic, payload) => {
    const gateway = topic.split('/')[1]!;
    void server
      .answer(payload, gateway)
      .then((a) => new Promise<Buffer>((r) => setTimeout(() => r(a), delayMs)))
      .then((a) => client.publishAsync(topic.replace(/request$/, 'chunk'), a, { qos: 1 }))
      .catch((err: unknown) => asked.push(`error: ${String(err)}`));
  });
  await client.subscribeAsync('village/+/update/request', { qos: 1 });
  return { server, asked };
}
