/**
 * Measures the lab against its own theory, over loopback: for each profile, a transfer of
 * `--kb` KB up (write to last byte at a sink) next to bytes / rate + delay, and a 10-byte echo's
 * round trip next to two delays. Prints a table; `--json` prints one JSON line per profile.
 *
 *   node dist/scripts/weak-link/measure.js [--profiles good-4g,edge-2g] [--kb 100] [--json]
 *
 * gprs takes about 21 s for 100 KB: that is the point of it.
 */
import { connect, createServer, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { isProfileName, rawLinkMs, rawRoundTripMs, type ProfileName } from './profiles.js';
import { WeakLink } from './weak-link.js';

interface Measured {
  profile: ProfileName;
  bytes: number;
  transferMs: number;
  transferTheoryMs: number;
  rttMs: number;
  rttTheoryMs: number;
}

/** A loopback server that echoes what starts with 'E' and swallows the rest, counting bytes. */
async function sink(): Promise<{ port: number; received: () => number; close: () => Promise<void> }> {
  let received = 0;
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('data', (b: Buffer) => (b[0] === 0x45 ? s.write(b) : (received += b.length)));
  });
  server.on('error', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  const close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return { port, received: () => received, close };
}

function until(cond: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const t = setInterval(() => cond() && (clearInterval(t), resolve()), 2);
  });
}

async function measure(profile: ProfileName, bytes: number): Promise<Measured> {
  const target = await sink();
  const link = await WeakLink.start({ targetPort: target.port, profile, schedule: false });
  try {
    const c = connect(link.port, '127.0.0.1');
    c.on('error', () => {});
    await new Promise((r) => c.once('connect', r));
    let echoed = 0;
    c.on('data', (b: Buffer) => (echoed += b.length));
    const t0 = performance.now();
    c.write(Buffer.from('E123456789'));
    await until(() => echoed === 10);
    const rttMs = performance.now() - t0;
    const t1 = performance.now();
    c.write(Buffer.alloc(bytes, 0x2e));
    await until(() => target.received() === bytes);
    const transferMs = performance.now() - t1;
    c.destroy();
    return {
      profile,
      bytes,
      transferMs,
      transferTheoryMs: rawLinkMs(bytes, profile),
      rttMs,
      rttTheoryMs: rawRoundTripMs(10, 10, profile),
    };
  } finally {
    await link.stop();
    await target.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      profiles: { type: 'string', default: 'good-4g,weak-3g,edge-2g,gprs' },
      kb: { type: 'string', default: '100' },
      json: { type: 'boolean', default: false },
    },
  });
  const names = values.profiles.split(',');
  const bad = names.filter((n) => !isProfileName(n));
  if (bad.length) throw new Error(`unknown profile(s): ${bad.join(', ')}`);
  const bytes = Number(values.kb) * 1024;
  if (!values.json) console.log('profile       transfer (theory)         ratio   10 B echo RTT (theory)  ratio');
  for (const name of names as ProfileName[]) {
    const m = await measure(name, bytes);
    if (values.json) console.log(JSON.stringify(m));
    else {
      const ms = (x: number) => `${Math.round(x)} ms`;
      console.log(
        `${name.padEnd(13)} ${`${ms(m.transferMs)} (${ms(m.transferTheoryMs)})`.padEnd(25)} ${(m.transferMs / m.transferTheoryMs).toFixed(3)}   ` +
          `${`${ms(m.rttMs)} (${ms(m.rttTheoryMs)})`.padEnd(23)} ${(m.rttMs / m.rttTheoryMs).toFixed(3)}`,
      );
    }
  }
}

main().catch((err: unknown) => {
  console.error(`measure: ${(err as Error).message}`);
  process.exit(2);
});
