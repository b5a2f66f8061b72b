/**
 * The gateway's requests for pieces of a release over MQTT (core/contracts/update-chunk.ts), as
 * one of the drain's idle lanes (agent/uplink/idle-lane.ts): a request goes only while no event
 * waits and inside the airtime budget the picture chunks use, so an alarm never waits behind an
 * update; one request is outstanding at a time, so the downlink carries at most one answer.
 *
 * Answers are not trusted: one that does not read, or names another release, file or offset
 * than the request outstanding (a late duplicate, a stranger), is ignored and counted; the file's
 * size and sha256 are checked by the caller (mqtt-source.ts) against the manifest. A request
 * without an answer for `silenceMs` is asked again (same offset), up to `tries` times, then fails
 * UPDATE_UNREACHABLE naming what was ignored meanwhile. A lost link pauses the silence timer (the
 * request cannot go) and the new link asks again; `STALL_MS` without any answer, link down
 * included, gives up, so a gateway cut off for good does not keep an update pending forever.
 */
import type { Logger } from 'pino';
import { decodeUpdateChunk, type UpdateChunk, type UpdateRequest } from '../../core/contracts/update-chunk.js';
import { failure, GatewayError } from '../../core/kernel/errors.js';
import type { IdleLane, IdleMessage } from '../uplink/idle-lane.js';
import { TokenBucket } from '../uplink/token-bucket.js';

/** However the link comes and goes, a request with no answer for this long fails the transfer. */
export const STALL_MS = 30 * 60_000;

export interface AskTiming {
  silenceMs: number;
  tries: number;
}

interface Outstanding {
  req: UpdateRequest;
  payload: Buffer;
  timing: AskTiming;
  /** Published on the current link (the answer is awaited). */
  asked: boolean;
  /** Asks that went unanswered for silenceMs. */
  tries: number;
  silence: NodeJS.Timeout | null;
  stall: NodeJS.Timeout;
  resolve(c: UpdateChunk): void;
  reject(err: Error): void;
}

export class ChunkRequests implements IdleLane {
  readonly counts = { requests: 0, answers: 0, ignored: 0 };
  /** Why the last answer was ignored (named when a request finally fails). */
  lastIgnored: string | null = null;
  private up = false;
  private current: Outstanding | null = null;
  private wake: () => void = () => undefined;
  /** Log lines about ignored answers: a few, then one a minute (a flood must not fill the card). */
  private readonly lines = new TokenBucket(1 / 60, 5);

  constructor(
    private readonly topic: string,
    private readonly logger: Logger,
  ) {}

  /** Asks for one piece; resolves with the answer (an `error` answer rejects), one request at a time. */
  ask(req: UpdateRequest, timing: AskTiming): Promise<UpdateChunk> {
    // mqtt-source.ts asks one piece at a time: a second ask is a bug of ours, said plainly.
    if (this.current)
      return Promise.reject(new GatewayError('UPDATE_PENDING', 'a chunk request is outstanding already'));
    return new Promise<UpdateChunk>((resolve, reject) => {
      const stall = setTimeout(
        () => this.fail(this.unreachable(`no answer for ${STALL_MS / 60_000} min (link down or server gone)`)),
        STALL_MS,
      );
      stall.unref();
      this.current = {
        req,
        payload: Buffer.from(JSON.stringify(req)),
        timing,
        asked: false,
        tries: 0,
        silence: null,
        stall,
        resolve,
        reject,
      };
      this.wake();
    });
  }

  /** Gives up whatever is outstanding (the agent stops). */
  stop(): void {
    this.fail(new GatewayError('UPDATE_UNREACHABLE', 'the agent stopped during the transfer'));
  }

  onReady(wake: () => void): void {
    this.wake = wake;
  }

  linkChanged(up: boolean): void {
    this.up = up;
    const c = this.current;
    if (!c) return;
    // Whatever went on the old link may never be answered: the new one asks again, not counted as a try.
    c.asked = false;
    if (c.silence) clearTimeout(c.silence);
    c.silence = null;
  }

  peek(): IdleMessage | null {
    const c = this.current;
    if (!this.up || !c || c.asked) return null;
    return {
      topic: this.topic,
      payload: c.payload,
      sent: () => {
        c.asked = true;
        this.counts.requests += 1;
        c.silence = setTimeout(() => this.silent(c), c.timing.silenceMs);
      },
      settle: (err) => {
        // A refused request (an ACL) is answered by nobody: its silence timer asks again.
        if (err) this.logger.warn(failure('PUBLISH_FAILED', err, { update: c.req.path }), 'update request refused');
      },
    };
  }

  /** A message on `<prefix>/update/chunk`. Never throws. */
  receive(payload: Buffer): void {
    let chunk: UpdateChunk;
    try {
      chunk = decodeUpdateChunk(payload);
    } catch (err) {
      return this.ignore(err instanceof Error ? err.message : String(err));
    }
    const c = this.current;
    const h = chunk.header;
    if (!c) return this.ignore(`${h.path} @${h.o}: no request outstanding`);
    if (h.version !== c.req.version || h.path !== c.req.path || h.o !== c.req.o)
      return this.ignore(`${h.version} ${h.path} @${h.o}: not the request outstanding (${c.req.path} @${c.req.o})`);
    if (h.error)
      return this.fail(
        this.unreachable(`the update server refused ${h.path}: ${h.error.code}: ${h.error.message}`, false, {
          absent: h.error.code === 'NOT_IN_BUNDLE', // the server has no such file (a bundle of an older make-bundle)
        }),
      );
    if (chunk.data.length > c.req.len)
      return this.ignore(`${h.path} @${h.o}: ${chunk.data.length} bytes, ${c.req.len} asked`);
    if (chunk.data.length === 0 && h.o < h.size!) return this.ignore(`${h.path} @${h.o}: no bytes before the end`);
    this.counts.answers += 1;
    this.settle();
    c.resolve(chunk);
  }

  private silent(c: Outstanding): void {
    c.silence = null;
    if (c !== this.current) return;
    c.tries += 1; // a silence is a try; a lost link is not (linkChanged)
    if (c.tries >= c.timing.tries)
      return this.fail(
        this.unreachable(`${c.req.path} @${c.req.o}: no answer in ${c.tries} tries of ${c.timing.silenceMs} ms`),
      );
    c.asked = false; // asked again at the lane's next turn
    this.wake();
  }

  private unreachable(message: string, retryable = true, detail: Record<string, boolean> = {}): GatewayError {
    const ignored =
      this.counts.ignored > 0 ? ` (${this.counts.ignored} answers ignored, the last: ${this.lastIgnored})` : '';
    return new GatewayError('UPDATE_UNREACHABLE', `${message}${ignored}`, { retryable, detail });
  }

  private fail(err: Error): void {
    const c = this.current;
    if (!c) return;
    this.settle();
    c.reject(err);
  }

  private settle(): void {
    const c = this.current;
    if (!c) return;
    if (c.silence) clearTimeout(c.silence);
    clearTimeout(c.stall);
    this.current = null;
  }

  private ignore(why: string): void {
    this.counts.ignored += 1;
    this.lastIgnored = why.slice(0, 300);
    if (this.lines.take() === 0)
      this.logger.warn(failure('CHUNK_UNREADABLE', why, { ignored: this.counts.ignored }), 'update answer ignored');
  }
}
