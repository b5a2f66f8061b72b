/** A county command through the county subscriber's own client, and its reply (matched by the request's id). */
import type { CountySubscriber } from '../../scripts/county-subscriber.js';
import { waitUntil } from './wait.js';

export interface Reply {
  id?: string;
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string };
}

export async function countyCommand(
  county: CountySubscriber,
  gatewayId: string,
  name: string,
  body: { id: string } & Record<string, unknown>,
  ms = 5000,
): Promise<Reply> {
  const client = county.client!;
  let reply: Reply | null = null;
  const onMessage = (topic: string, payload: Buffer) => {
    if (topic !== `village/${gatewayId}/cmd-reply/${name}`) return;
    const r = JSON.parse(payload.toString()) as Reply;
    if (r.id === body.id) reply = r;
  };
  client.on('message', onMessage);
  try {
    await client.subscribeAsync(`village/${gatewayId}/cmd-reply/${name}`, { qos: 1 });
    await client.publishAsync(`village/${gatewayId}/cmd/${name}`, JSON.stringify(body), { qos: 1 });
    await waitUntil(() => reply !== null, ms, `the reply to ${name} ${body.id}`);
    return reply!;
  } finally {
    client.off('message', onMessage);
  }
}
