/**
 * Signs a county command with the county's ed25519 private key and prints the envelope, or
 * publishes it (QoS 1) on `<prefix>/<gateway>/cmd/<command>` and prints the gateway's reply.
 *
 *   node dist/scripts/county/sign-command.js --key county.pem --key-id county-2026 \
 *     --gateway gw-1 --command output --args '{"device":"board","output":"strobe","action":"on"}' [--url mqtt://host:1883]
 *   node dist/scripts/county/sign-command.js --key county.pem --public-key   (the gateway's county.keys[].publicKey)
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { connectAsync } from 'mqtt';
import { publicKeyValue, readPrivateKey, signCommand } from './signed-envelope.js';

const USAGE = `usage: sign-command --key PEM --key-id ID --gateway ID --command NAME [--args JSON] [--id ID]
                    [--expires-in SEC] [--url mqtt://[user:pass@]host:1883 [--prefix village] [--wait SEC]]
       sign-command --key PEM --public-key

  --key         the county's ed25519 private key, PEM (openssl genpkey -algorithm ed25519 -out county.pem)
  --key-id      the id the gateway's config gives the matching public key (county.keys[].id)
  --expires-in  how long the command is good for, seconds (default 60)
  --url         publish it and print the reply (waits --wait seconds, default 10); else print the envelope
  --public-key  print the value for county.keys[].publicKey and exit
exit: 0 printed (or the reply says ok), 1 the reply refused it or none came, 2 usage`;

async function main(argv: string[]): Promise<number> {
  const { values: o } = parseArgs({
    args: argv,
    options: {
      key: { type: 'string' },
      'key-id': { type: 'string' },
      gateway: { type: 'string' },
      command: { type: 'string' },
      args: { type: 'string' },
      id: { type: 'string' },
      'expires-in': { type: 'string' },
      url: { type: 'string' },
      prefix: { type: 'string', default: 'village' },
      wait: { type: 'string', default: '10' },
      'public-key': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (o.help) return usage(0);
  if (o.key === undefined) return usage(2);
  const key = readPrivateKey(readFileSync(o.key, 'utf8'));
  if (o['public-key']) {
    process.stdout.write(`${publicKeyValue(key)}\n`);
    return 0;
  }
  if (o['key-id'] === undefined || o.gateway === undefined || o.command === undefined) return usage(2);
  const args = o.args === undefined ? {} : (JSON.parse(o.args) as Record<string, unknown>);
  const goodForSec = Number(o['expires-in'] ?? 60);
  if (!Number.isInteger(goodForSec) || goodForSec < 1) return usage(2);
  const now = Date.now();
  const env = signCommand(key, o['key-id'], {
    command: o.command,
    gatewayId: o.gateway,
    args,
    ...(o.id !== undefined ? { id: o.id } : {}),
    sentAt: now,
    expiresAt: now + goodForSec * 1000,
  });
  if (o.url === undefined) {
    process.stdout.write(`${JSON.stringify(env)}\n`);
    return 0;
  }
  return publish(o.url, `${o.prefix}/${o.gateway}`, o.command, JSON.stringify(env), Number(o.wait) * 1000);
}

async function publish(url: string, base: string, command: string, payload: string, waitMs: number): Promise<number> {
  const client = await connectAsync(url, { protocolVersion: 4, clean: true, reconnectPeriod: 0 });
  client.on('error', (err) => process.stderr.write(`sign-command: ${err.message}\n`));
  try {
    const reply = new Promise<string | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), waitMs);
      client.on('message', (_t, p) => {
        clearTimeout(timer);
        resolve(p.toString());
      });
    });
    await client.subscribeAsync(`${base}/cmd-reply/${command}`, { qos: 1 });
    await client.publishAsync(`${base}/cmd/${command}`, payload, { qos: 1 });
    const got = await reply;
    process.stdout.write(`${got ?? 'no reply'}\n`);
    return got !== null && (JSON.parse(got) as { ok?: unknown }).ok === true ? 0 : 1;
  } finally {
    await client.endAsync();
  }
}

function usage(code: number): number {
  (code === 0 ? process.stdout : process.stderr).write(`${USAGE}\n`);
  return code;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`sign-command: ${err.message}\n`);
      process.exit(2);
    },
  );
}
