/**
 * The county's delivery check: judges what a broker delivers (or a file of events) with the
 * same checker the tests use. Exit 0 when all is well, 1 when a problem was found (or nothing
 * arrived to judge, or a message or line could not be read: its events are unknown), 2 when it
 * could not check (usage, unreadable file, unreachable broker). Messages are decoded within
 * `WIRE_LIMITS` like the subscriber's, so no message can stop the check.
 * Pictures too: their chunks are put together and judged against their `camera.picture` events
 * (picture-check.ts).
 *
 *   node dist/scripts/county/check-delivery.js --url mqtt://host:1883 [--prefix village] [--seconds N]
 *   node dist/scripts/county/check-delivery.js --file events.jsonl   (JSON lines, `-` for stdin)
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CountySubscriber } from '../county-subscriber.js';
import { parseBoundedJson, WIRE_LIMITS } from '../../core/contracts/wire-limits.js';
import { eventsOfJson } from './decode-message.js';
import { DeliveryChecker, type Verdict } from './delivery-checker.js';
import { verdictReport } from './format-verdict.js';
import { LogBudget, printable, unreadableLine } from './unreadable-log.js';

const USAGE = `usage: check-delivery --url mqtt://[user:pass@]host:1883 [--prefix village] [--gateway ID] [--seconds N] [--id CLIENT-ID] [--joined-late] [--json]
       check-delivery --file events.jsonl|- [--gateway ID] [--joined-late] [--json]

  --url          listen on a broker (clean session) and judge what arrives: for --seconds, else until Ctrl-C
  --file         judge JSON lines: one event (or a v1 {"events": [...]} or v2 compact batch) a line, as county-subscriber prints them
  --gateway      judge only this gateway's events
  --joined-late  a boot whose gateway.started was not seen is judged from the lowest seq received
                 instead of failing (listening to a running gateway; a backlog being drained when you
                 joined may then show gaps)
  --json         print the verdict as one JSON object
exit: 0 ok, 1 problems found (an unreadable message or line is one) or nothing received, 2 could not check`;

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

/** A line of a file is a batch at most as big as a batch may expand to. */
const LINE_LIMITS = { maxBytes: WIRE_LIMITS.maxJsonBytes, maxDepth: WIRE_LIMITS.maxDepth };

type Unreadable = (where: string, why: string, line: string) => void;

/** Counts a message or line that could not be read, and says so (within the log budget). */
function unreadable(checker: DeliveryChecker, log: LogBudget): Unreadable {
  return (where, why, line) => {
    checker.unreadableMessage(printable(where), printable(why, 300));
    log.line(line);
  };
}

function judgeFile(file: string, feed: (ev: unknown) => void, bad: Unreadable): void {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new CannotCheck(`cannot read ${file}: ${(err as Error).message}`);
  }
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let events: unknown[];
    try {
      events = eventsOfJson(parseBoundedJson(Buffer.from(line), LINE_LIMITS));
    } catch (err) {
      // A line the county could not read is a problem: whatever it carried is unknown.
      const why = (err as Error).message;
      bad(`line ${i + 1}`, why, `line ${i + 1}: ${printable(why, 300)}`);
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
      `received ${checker.distinct} distinct events, ${checker.duplicates} duplicates, ${checker.malformed} malformed, ${checker.unreadable} unreadable messages, ${checker.pictureChunks} picture chunks\n`,
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

async function listen(
  o: Options,
  checker: DeliveryChecker,
  feed: (ev: unknown) => void,
  bad: Unreadable,
): Promise<void> {
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
  // Pictures: the checker puts them together from the chunks itself and judges them.
  sub.on('media', (gatewayId, pictureId, payload) => {
    if (o.gateway !== undefined && gatewayId !== o.gateway) return;
    checker.chunk(gatewayId, pictureId, payload);
    shown.note();
  });
  // Live, the subscriber decodes: a message it could not read is counted here too (it was
  // once only a line on stderr, and the verdict said ok over batches that never decoded).
  sub.on('unreadable', (topic, why) => {
    if (sub.isMediaTopic(topic)) return; // a refused chunk: the checker's picture verdict names it
    const gateway = topic.startsWith(`${o.prefix}/`) ? topic.slice(o.prefix.length + 1).split('/')[0] : undefined;
    if (o.gateway !== undefined && gateway !== o.gateway) return;
    bad(topic, why, unreadableLine(topic, why));
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
    `listening on ${o.url} (${o.prefix}/+/events, events/batch, health, status, media)${o.seconds ? ` for ${o.seconds} s` : '; Ctrl-C to judge'}\n`,
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
  const log = new LogBudget((line) => process.stderr.write(`${line}\n`));
  const bad = unreadable(checker, log);
  try {
    if (o.file !== undefined) judgeFile(o.file, feed, bad);
    else await listen(o, checker, feed, bad);
  } catch (err) {
    if (!(err instanceof CannotCheck)) throw err;
    process.stderr.write(`check-delivery: ${err.message}\n`);
    return 2;
  }
  log.flush();
  const v: Verdict = checker.verdict();
  if (v.distinct === 0 && v.malformed === 0 && v.unreadable === 0) {
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
