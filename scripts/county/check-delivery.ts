/**
 * The county's delivery check: judges what a broker delivers (or a file of events) with the
 * same checker the tests use. Exit 0 when all is well, 1 when a problem was found (or nothing
 * arrived to judge), 2 when it could not check (usage, unreadable file, unreachable broker).
 *
 *   node dist/scripts/county/check-delivery.js --url mqtt://host:1883 [--prefix village] [--seconds N]
 *   node dist/scripts/county/check-delivery.js --file events.jsonl   (JSON lines, `-` for stdin)
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CountySubscriber } from '../county-subscriber.js';
import { eventsOfJson } from './decode-message.js';
import { DeliveryChecker, type Verdict } from './delivery-checker.js';
import { verdictReport } from './format-verdict.js';

const USAGE = `usage: check-delivery --url mqtt://[user:pass@]host:1883 [--prefix village] [--gateway ID] [--seconds N] [--id CLIENT-ID] [--joined-late] [--json]
       check-delivery --file events.jsonl|- [--gateway ID] [--joined-late] [--json]

  --url          listen on a broker (clean session) and judge what arrives: for --seconds, else until Ctrl-C
  --file         judge JSON lines: one event (or a v1 {"events": [...]} or v2 compact batch) a line, as county-subscriber prints them
  --gateway      judge only this gateway's events
  --joined-late  a boot whose gateway.started was not seen is judged from the lowest seq received
                 instead of failing (listening to a running gateway; a backlog being drained when you
                 joined may then show gaps)
  --json         print the verdict as one JSON object
exit: 0 ok, 1 problems found or nothing received, 2 could not check`;

const CONNECT_TIMEOUT_MS = 10_000;

class UsageError extends Error {}
class HelpRequested extends Error {}

interface Options {
  url?: string;
  file?: string;
  prefix: string;
  gateway?: string;
  seconds?: number;
  id?: string;
  joinedLate: boolean;
  json: boolean;
}

function parse(argv: string[]): Options {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        url: { type: 'string' },
        file: { type: 'string' },
        prefix: { type: 'string' },
        gateway: { type: 'string' },
        seconds: { type: 'string' },
        id: { type: 'string' },
        'joined-late': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) throw new HelpRequested();
  if ((values.url === undefined) === (values.file === undefined))
    throw new UsageError('give exactly one of --url and --file');
  let seconds: number | undefined;
  if (values.seconds !== undefined) {
    seconds = Number(values.seconds);
    if (!Number.isFinite(seconds) || seconds <= 0)
      throw new UsageError(`--seconds must be a positive number (got "${values.seconds}")`);
    if (values.file !== undefined) throw new UsageError('--seconds goes with --url');
  }
  if (values.file !== undefined && values.id !== undefined) throw new UsageError('--id goes with --url');
  return {
    ...(values.url !== undefined ? { url: values.url } : {}),
    ...(values.file !== undefined ? { file: values.file } : {}),
    prefix: values.prefix ?? 'village',
    ...(values.gateway !== undefined ? { gateway: values.gateway } : {}),
    ...(seconds !== undefined ? { seconds } : {}),
    ...(values.id !== undefined ? { id: values.id } : {}),
    joinedLate: values['joined-late'] ?? false,
    json: values.json ?? false,
  };
}

/** Feeds one arrival, skipping other gateways' events when asked for one. */
function feeder(checker: DeliveryChecker, gateway: string | undefined): (ev: unknown) => void {
  return (ev) => {
    if (gateway !== undefined && ev && typeof ev === 'object' && (ev as { gatewayId?: unknown }).gatewayId !== gateway)
      return;
    checker.receive(ev);
  };
}

function judgeFile(file: string, feed: (ev: unknown) => void): void {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new CannotCheck(`cannot read ${file}: ${(err as Error).message}`);
  }
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let body: unknown;
    try {
      body = JSON.parse(line);
    } catch {
      process.stderr.write(`line ${i + 1}: not JSON\n`);
      feed(null); // counted as malformed: a line the county could not read is a problem
      return;
    }
    let events: unknown[];
    try {
      events = eventsOfJson(body);
    } catch (err) {
      process.stderr.write(`line ${i + 1}: ${(err as Error).message}\n`);
      feed(null); // counted as malformed, like a line that is not JSON
      return;
    }
    events.forEach(feed);
  });
}

class CannotCheck extends Error {}

/** At most one progress line a second on stderr while listening, the latest state always shown. */
function progress(checker: DeliveryChecker): { note: () => void; stop: () => void } {
  let timer: NodeJS.Timeout | null = null;
  let lastMs = 0;
  const print = () => {
    timer = null;
    lastMs = Date.now();
    process.stderr.write(
      `received ${checker.distinct} distinct events, ${checker.duplicates} duplicates, ${checker.malformed} malformed\n`,
    );
  };
  return {
    note: () => {
      timer ??= setTimeout(print, Math.max(0, lastMs + 1000 - Date.now()));
    },
    stop: () => {
      if (timer) clearTimeout(timer);
    },
  };
}

async function listen(o: Options, checker: DeliveryChecker, feed: (ev: unknown) => void): Promise<void> {
  const sub = new CountySubscriber({
    url: o.url!,
    root: o.prefix,
    clientId: o.id ?? `county-check-${process.pid}`,
    mqttOptions: { clean: true, reconnectPeriod: 1000 },
  });
  const shown = progress(checker);
  sub.on('arrival', (ev) => {
    feed(ev);
    shown.note();
  });
  const connected = sub.start();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
  });
  try {
    await Promise.race([connected, timeout]);
  } catch (err) {
    sub.client?.end(true);
    throw new CannotCheck(`cannot reach the broker at ${o.url}: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
  process.stderr.write(
    `listening on ${o.url} (${o.prefix}/+/events, events/batch, health, status)${o.seconds ? ` for ${o.seconds} s` : '; Ctrl-C to judge'}\n`,
  );
  // A clean session: what is published while this listener is disconnected never reaches it.
  const lost = () =>
    process.stderr.write(
      'warning: lost the connection to the broker; events published until it is back are not seen, and show as gaps\n',
    );
  sub.client!.on('close', lost);
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    if (o.seconds) setTimeout(done, o.seconds * 1000);
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  shown.stop();
  sub.client!.off('close', lost);
  await sub.stop();
}

export async function checkDelivery(argv: string[]): Promise<number> {
  let o: Options;
  try {
    o = parse(argv);
  } catch (err) {
    if (err instanceof HelpRequested) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`check-delivery: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  const checker = new DeliveryChecker({ joinedLate: o.joinedLate });
  const feed = feeder(checker, o.gateway);
  try {
    if (o.file !== undefined) judgeFile(o.file, feed);
    else await listen(o, checker, feed);
  } catch (err) {
    if (!(err instanceof CannotCheck)) throw err;
    process.stderr.write(`check-delivery: ${err.message}\n`);
    return 2;
  }
  const v: Verdict = checker.verdict();
  if (v.distinct === 0 && v.malformed === 0) {
    // A check that saw nothing proves nothing (a wrong prefix, a gateway that is down).
    v.problems.push('no events received');
    v.ok = false;
  }
  process.stdout.write(`${o.json ? JSON.stringify(v) : verdictReport(v)}\n`);
  return v.ok ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  checkDelivery(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`check-delivery: ${err.stack ?? err.message}\n`);
      process.exit(2);
    },
  );
}
