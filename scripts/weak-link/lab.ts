/**
 * The weak-link lab on the command line, for technicians and the demo:
 *
 *   node dist/scripts/weak-link/lab.js --target 127.0.0.1:1883 --profile edge-2g [--listen PORT] [--time-scale 60]
 *
 * Point the gateway's `mqtt.url` at the printed URL. It prints every mode change and, every few
 * seconds, the bytes carried. While it runs, type `blackhole`, `cut`, `reset`, `restore`,
 * `profile NAME` or `stats` (and Enter). `--list` prints the profiles. Ctrl-C stops it.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { PROFILES, isProfileName, rawLinkMs, type LinkProfile } from './profiles.js';
import { transitions } from './schedule.js';
import { WeakLink, type WeakLinkStats } from './weak-link.js';

const USAGE = `usage: lab --target HOST:PORT [--profile NAME] [--listen PORT] [--listen-host HOST]
           [--time-scale N] [--stats-every SEC] [--seed N]
       lab --list
profiles: ${Object.keys(PROFILES).join(', ')}`;

const say = (line: string) => process.stdout.write(line + '\n');
const kbps = (bits: number) => (bits === 0 ? 'no cap' : `${bits / 1000} kbit/s`);
const clock = (ms: number) => `${Math.floor(ms / 60_000)}:${String(Math.floor(ms / 1000) % 60).padStart(2, '0')}`;

function describeProfile(p: LinkProfile, timeScale = 1): string[] {
  const r = p.rateBitsPerSec;
  const lines = [
    `${p.name}: one-way delay ${p.delayMs} ms + jitter up to ${p.jitterMs} ms, up ${kbps(r.up)}, down ${kbps(r.down)}, modem buffer ${p.bufferBytes / 1024} KB`,
    `  100 KB up takes at least ${(rawLinkMs(100 * 1024, p) / 1000).toFixed(1)} s`,
  ];
  const s = p.schedule;
  if (!s) return lines;
  const scaled = (ms: number) =>
    timeScale === 1 ? clock(ms) : `${clock(ms)} (${(ms / timeScale / 1000).toFixed(2)} s here)`;
  lines.push(`  schedule${s.periodMs ? `, every ${scaled(s.periodMs)}` : ', once'}:`);
  for (const t of transitions(s)) lines.push(`    at ${scaled(t.atMs)} -> ${t.mode}`);
  return lines;
}

function statsLine(s: WeakLinkStats): string {
  const d = (x: WeakLinkStats['up']) =>
    `${x.forwardedBytes} B forwarded, ${x.queuedBytes} B queued, ${x.inFlightBytes} B on the air`;
  return `[${s.mode}] ${s.open} open / ${s.connections} connections; up: ${d(s.up)}; down: ${d(s.down)}`;
}

function parseTarget(t: string): { host: string; port: number } {
  const i = t.lastIndexOf(':');
  const port = Number(t.slice(i + 1));
  if (i < 1 || !Number.isInteger(port) || port <= 0 || port > 65535)
    throw new Error(`--target wants HOST:PORT, got "${t}"`);
  return { host: t.slice(0, i), port };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      target: { type: 'string' },
      profile: { type: 'string', default: 'good-4g' },
      listen: { type: 'string' },
      'listen-host': { type: 'string', default: '127.0.0.1' },
      'time-scale': { type: 'string', default: '1' },
      'stats-every': { type: 'string', default: '5' },
      seed: { type: 'string' },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return (void say(USAGE), 0);
  const timeScale = Number(values['time-scale']);
  if (values.list) {
    for (const p of Object.values(PROFILES)) describeProfile(p, timeScale).forEach(say);
    return 0;
  }
  if (!values.target) throw new Error('--target is required');
  if (!isProfileName(values.profile)) throw new Error(`unknown profile "${values.profile}"`);
  const target = parseTarget(values.target);
  const link = await WeakLink.start({
    targetHost: target.host,
    targetPort: target.port,
    listenHost: values['listen-host'],
    listenPort: values.listen ? Number(values.listen) : undefined,
    profile: values.profile,
    timeScale,
    seed: values.seed ? Number(values.seed) : undefined,
  });
  say(`weak link ${values['listen-host']}:${link.port} -> ${target.host}:${target.port} (mqtt url: ${link.url})`);
  describeProfile(link.profile, timeScale).forEach(say);
  say('type blackhole | cut | reset | restore | profile NAME | stats; Ctrl-C stops');
  link.onModeChange((c) => say(`${(c.atMs / 1000).toFixed(2)} s: ${c.mode} (${c.by})`));
  const every = Number(values['stats-every']) * 1000;
  const timer = every > 0 ? setInterval(() => say(statsLine(link.stats())), every) : null;

  const input = createInterface({ input: process.stdin });
  input.on('error', () => {});
  input.on('line', (line) => {
    const [cmd, arg] = line.trim().split(/\s+/);
    try {
      if (cmd === 'blackhole' || cmd === 'cut' || cmd === 'restore') link[cmd]();
      else if (cmd === 'reset') {
        link.reset();
        say('reset every open connection');
      } else if (cmd === 'stats') say(statsLine(link.stats()));
      else if (cmd === 'profile' && arg && isProfileName(arg)) {
        link.setProfile(arg);
        describeProfile(link.profile, timeScale).forEach(say);
      } else if (cmd) say(`? ${line.trim()} (blackhole | cut | reset | restore | profile NAME | stats)`);
    } catch (err) {
      say(`error: ${(err as Error).message}`);
    }
  });

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  if (timer) clearInterval(timer);
  input.close();
  say(statsLine(link.stats()));
  await link.stop();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`lab: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  },
);
