/**
 * The weak link in the kernel, where root and network namespaces are allowed: two namespaces
 * (`vglab-gw` 10.77.0.1, `vglab-county` 10.77.0.2) joined by a veth pair, the rate capped on each
 * side's egress with `tc tbf` (its queue limit is the profile's modem buffer), and `nft` dropping
 * packets for a blackhole or a loss rate. Real TCP then does the rest: retransmissions, RTO backoff,
 * a congestion window. There is no delay: this kernel has no netem; for delay put the TCP proxy
 * (WeakLink, with a profile's delay and jitter) in front, or use the proxy alone.
 *
 *   node dist/scripts/weak-link/netns.js check              # can this machine do it? (a self-check)
 *   node dist/scripts/weak-link/netns.js up edge-2g         # create (or re-shape) the pair
 *   node dist/scripts/weak-link/netns.js blackhole | loss 10 | restore | down
 *   ip netns exec vglab-county mosquitto -p 1883 & ip netns exec vglab-gw village-gateway run ...
 *
 * Needs root, iproute2 and nftables (`apt-get install -y iproute2 nftables`). Not run by the tests:
 * whether CI's machine permits namespaces is not known, and no test may be skipped.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { isProfileName, profileOf, type LinkProfile } from './profiles.js';

export const NETNS = { gw: 'vglab-gw', county: 'vglab-county' } as const;
export const NETNS_ADDR = { gw: '10.77.0.1', county: '10.77.0.2' } as const;
const VETH = { gw: 'vglab0', county: 'vglab1' } as const;
const TABLE = 'vglab';

function run(cmd: string, args: string[], input?: string): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${(e.stderr || e.message).trim()}`);
  }
}
const inNs = (ns: string, cmd: string, args: string[], input?: string) =>
  run('ip', ['netns', 'exec', ns, cmd, ...args], input);

/** What is missing for the kernel mode here (empty: it can run). Creates and removes a probe namespace. */
export function netnsProbe(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root');
  for (const [tool, args] of [
    ['ip', ['-V']],
    ['tc', ['-V']],
    ['nft', ['--version']],
  ] as const) {
    try {
      run(tool, [...args]);
    } catch {
      missing.push(`${tool} (apt-get install -y ${tool === 'nft' ? 'nftables' : 'iproute2'})`);
    }
  }
  if (missing.length) return missing;
  try {
    run('ip', ['netns', 'add', 'vglab-probe']);
    run('ip', ['netns', 'del', 'vglab-probe']);
  } catch (err) {
    missing.push(`network namespaces (${(err as Error).message})`);
  }
  return missing;
}

/** tbf on one side's egress: rate, a bucket of at least one MTU or 10 ms of rate, the modem buffer as queue. */
function shape(side: 'gw' | 'county', rateBitsPerSec: number, bufferBytes: number): void {
  const ns = NETNS[side];
  const dev = VETH[side];
  try {
    inNs(ns, 'tc', ['qdisc', 'del', 'dev', dev, 'root']);
  } catch {
    // no qdisc of ours yet
  }
  if (rateBitsPerSec === 0) return;
  const burst = Math.max(1600, Math.ceil(rateBitsPerSec / 8 / 100));
  const args = ['qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', `${rateBitsPerSec}bit`];
  inNs(ns, 'tc', [...args, 'burst', String(burst), 'limit', String(bufferBytes)]);
}

/** Creates the namespace pair (once) and shapes it to the profile's rates. */
export function netnsUp(profile: LinkProfile): void {
  const exists = run('ip', ['netns', 'list']).includes(NETNS.gw);
  if (!exists) {
    run('ip', ['netns', 'add', NETNS.gw]);
    run('ip', ['netns', 'add', NETNS.county]);
    run('ip', ['link', 'add', VETH.gw, 'netns', NETNS.gw, 'type', 'veth', 'peer', 'name', VETH.county]);
    run('ip', ['link', 'set', VETH.county, 'netns', NETNS.county]);
    for (const side of ['gw', 'county'] as const) {
      run('ip', ['-n', NETNS[side], 'addr', 'add', `${NETNS_ADDR[side]}/24`, 'dev', VETH[side]]);
      run('ip', ['-n', NETNS[side], 'link', 'set', VETH[side], 'up']);
      run('ip', ['-n', NETNS[side], 'link', 'set', 'lo', 'up']);
    }
    const rules = `table inet ${TABLE} {
  chain in { type filter hook input priority 0; policy accept; }
  chain out { type filter hook output priority 0; policy accept; }
}`;
    inNs(NETNS.gw, 'nft', ['-f', '-'], rules);
  }
  shape('gw', profile.rateBitsPerSec.up, profile.bufferBytes);
  shape('county', profile.rateBitsPerSec.down, profile.bufferBytes);
}

/** Drops every packet in and out of the gateway's namespace (blackhole), some of them (loss), or none. */
export function netnsDrop(what: 'all' | 'none' | { lossPercent: number }): void {
  for (const chain of ['in', 'out']) {
    inNs(NETNS.gw, 'nft', ['flush', 'chain', 'inet', TABLE, chain]);
    if (what === 'none') continue;
    const rule = what === 'all' ? ['drop'] : ['numgen', 'random', 'mod', '100', '<', String(what.lossPercent), 'drop'];
    inNs(NETNS.gw, 'nft', ['add', 'rule', 'inet', TABLE, chain, 'ip', 'saddr', '10.77.0.0/24', ...rule]);
  }
}

export function netnsDown(): void {
  for (const ns of [NETNS.gw, NETNS.county]) {
    try {
      run('ip', ['netns', 'del', ns]); // takes its end of the veth, and so the pair, with it
    } catch {
      // not there
    }
  }
}

/** A node process inside a namespace speaking a line protocol on stdout; `next` waits for a line. */
function nodeIn(ns: string, script: string): { child: ChildProcess; next: (ms: number) => Promise<string> } {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.on('error', () => {});
  child.stdin!.on('error', () => {});
  const lines: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  const rl = createInterface({ input: child.stdout! });
  rl.on('line', (l) => (waiters.length ? waiters.shift()!(l) : lines.push(l)));
  const next = (ms: number) =>
    new Promise<string>((resolve) => {
      if (lines.length) return resolve(lines.shift()!);
      const waiter = (l: string) => (clearTimeout(timer), resolve(l));
      const timer = setTimeout(() => (waiters.splice(waiters.indexOf(waiter), 1), resolve('timeout')), ms);
      waiters.push(waiter);
    });
  return { child, next };
}

const ECHO = `require('net').createServer((s) => { s.on('error', () => {}); s.pipe(s); })
  .listen(9000, '${NETNS_ADDR.county}', () => console.log('ready'));`;
// Reads "send N" on stdin, writes N bytes, prints "echoed <ms>" when they are all back (or "closed").
const CLIENT = `const c = require('net').connect(9000, '${NETNS_ADDR.county}', () => console.log('connected'));
let want = 0, got = 0, t0 = 0;
c.on('error', (e) => console.log('error ' + e.code));
c.on('close', () => console.log('closed'));
c.on('data', (b) => { got += b.length; if (got === want) console.log('echoed ' + Math.round(performance.now() - t0)); });
require('readline').createInterface({ input: process.stdin }).on('line', (l) => {
  const n = Number(l.split(' ')[1]); want += n; t0 = performance.now(); c.write(Buffer.alloc(n, 46));
});`;

/** Shapes weak-3g, sends 48 KB there and back, then a blackhole and a restore; prints what it saw. */
async function selfCheck(): Promise<boolean> {
  const missing = netnsProbe();
  if (missing.length) {
    console.log(`netns mode unavailable here: missing ${missing.join(', ')}`);
    return false;
  }
  const profile = profileOf('weak-3g');
  netnsDown();
  netnsUp(profile);
  const server = nodeIn(NETNS.county, ECHO);
  let client: ReturnType<typeof nodeIn> | null = null;
  let ok = true;
  const check = (cond: boolean, what: string) => {
    console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`);
    ok &&= cond;
  };
  try {
    check((await server.next(5000)) === 'ready', 'echo server in vglab-county');
    client = nodeIn(NETNS.gw, CLIENT);
    check((await client.next(5000)) === 'connected', 'client in vglab-gw connected across the veth');
    const n = 48 * 1024;
    // The echo is pipelined (bytes come back while later ones still go out): the slower direction sets the time.
    const theory = Math.round((n * 8 * 1000) / Math.min(profile.rateBitsPerSec.up, profile.rateBitsPerSec.down));
    client.child.stdin!.write(`send ${n}\n`);
    const echoed = await client.next(20_000);
    const ms = Number(String(echoed).split(' ')[1]);
    check(ms >= 0.9 * theory, `48 KB echoed at 384 kbit/s each way took ${ms} ms (tc tbf; theory ${theory} ms)`);

    netnsDrop('all');
    client.child.stdin!.write('send 1000\n');
    const during = await client.next(1500);
    check(during === 'timeout', `blackhole (nft drop): nothing came back and nothing closed in 1.5 s (${during})`);
    netnsDrop('none');
    const after = await client.next(15_000);
    check(String(after).startsWith('echoed'), `restored: TCP retransmitted, the held bytes came back (${after})`);
  } finally {
    client?.child.kill();
    server.child.kill();
    netnsDown();
  }
  console.log(ok ? 'netns mode works here' : 'netns mode did not pass its self-check');
  return ok;
}

async function main(): Promise<number> {
  const [cmd, arg] = process.argv.slice(2);
  if (cmd === 'check') return (await selfCheck()) ? 0 : 1;
  if (cmd === 'up' && arg && isProfileName(arg)) netnsUp(profileOf(arg));
  else if (cmd === 'blackhole') netnsDrop('all');
  else if (cmd === 'loss' && Number(arg) >= 0 && Number(arg) <= 100) netnsDrop({ lossPercent: Number(arg) });
  else if (cmd === 'restore') netnsDrop('none');
  else if (cmd === 'down') netnsDown();
  else {
    console.error('usage: netns.js check | up PROFILE | blackhole | loss PERCENT | restore | down');
    return 2;
  }
  console.log(
    `${cmd}${arg ? ' ' + arg : ''}: done (${NETNS.gw} ${NETNS_ADDR.gw} <-> ${NETNS.county} ${NETNS_ADDR.county})`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`netns: ${(err as Error).message}`);
    process.exit(1);
  },
);
