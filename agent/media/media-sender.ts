/**
 * Pictures up to the county, as the drain's idle lane (agent/uplink/idle-lane.ts): the chunks
 * of one picture at a time (core/contracts/media-chunk.ts), one chunk on the wire at a time,
 * and only while no event waits, so an alarm overtakes a picture after at most one chunk.
 * Alarm pictures go first (oldest first), then the others as `media.upload.mode` allows.
 *
 * Resumable: the index of the last chunk the broker acknowledged is kept per picture in
 * upload-state.ts's file, so a cut link or a kill -9 resumes from the next chunk, never from
 * the start. A picture whose last chunk was acknowledged is marked sent (the store keeps it for
 * its age). `maxBytesPerDay` caps what pictures send per UTC day (the count survives restarts).
 *
 * A picture the county asked for (`picture`, `snapshot`: agent/media/media-requests.ts) goes
 * whatever the mode but `off`, ahead of the others, and past the daily cap: the county asked
 * for those bytes, and the requests are rate-limited; its bytes still count toward the cap. It
 * stays the lowest lane: an alarm still overtakes it after at most one chunk.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { chunksOf, MEDIA_SUBTOPIC } from '../../core/contracts/media-chunk.js';
import type { Clock } from '../../core/kernel/clock.js';
import { failure } from '../../core/kernel/errors.js';
import type { MediaConfig } from '../../config/schema/media.js';
import type { IdleLane, IdleMessage } from '../uplink/idle-lane.js';
import type { MediaStore, StoredPicture } from './media-store.js';
import { UploadState } from './upload-state.js';

export interface MediaSenderOptions {
  store: MediaStore;
  upload: MediaConfig['upload'];
  /** `<prefix>`: chunks go to `<prefix>/media/<pictureId>`. */
  prefix: string;
  /** The state file (dataDir/media-upload.json). */
  stateFile: string;
  clock: Clock;
  logger: Logger;
  /** The event a picture belongs to, when its taker said (else null on the wire). */
  eventIdOf?: (pic: StoredPicture) => string | null;
  /** A failed save of the upload state (the agent's StorageFailures counts and logs them). */
  notSaved?: (file: string, err: Error) => void;
}

export interface MediaReport {
  stored: number;
  bytes: number;
  mode: MediaConfig['upload']['mode'];
  /** Pictures the mode sends that have not gone whole yet. */
  pendingUpload: number;
  /** Picture bytes sent today (UTC). */
  sentToday: number;
  maxBytesPerDay: number;
  chunks: number;
  pictures: number;
  refused: number;
  /** Why the picture folder cannot take pictures (null: it can). */
  problem: string | null;
  /** Requests by the county and the flows since start (media-requests.ts): queued, stored (a flow's), refused, failed, refused but not recorded one each. */
  requests?: { queued: number; stored: number; refused: number; failed: number; unrecorded: number };
}

/** After a refused chunk (an ACL on the media topic) the lane rests this long before trying again. */
const REFUSED_PAUSE_MS = 60_000;

interface Loaded {
  pic: StoredPicture;
  chunks: Buffer[];
}

export class MediaSender implements IdleLane {
  /** Chunks acknowledged and pictures completed, since start. */
  readonly counts = { chunks: 0, pictures: 0, refused: 0 };
  private readonly state: UploadState;
  private loaded: Loaded | null = null;
  private loading = false;
  private onWire = false;
  private up = false;
  private pausedUntilMono = -Infinity;
  private wake: () => void = () => undefined;
  private timer: NodeJS.Timeout | null = null;
  /** Pictures the county asked for (mode on-request; any mode but off). */
  private readonly requested = new Set<string>();

  constructor(private readonly o: MediaSenderOptions) {
    this.state = new UploadState(o.stateFile, o.clock, o.logger, o.notSaved);
    o.store.onStored(() => this.wake());
  }

  /** Whether the county has this picture whole (sent and acknowledged to its last chunk). */
  sent(id: string): boolean {
    return this.state.isSent(id);
  }

  onReady(wake: () => void): void {
    this.wake = wake;
  }

  linkChanged(up: boolean): void {
    this.up = up;
    this.onWire = false; // its PUBACK may never come: the chunk goes again
    // A chunk refused as the old link went is no reason to rest on the new one (an ACL refuses again, once a connection).
    if (up) this.pausedUntilMono = -Infinity;
  }

  /**
   * The county asked for this picture: it goes whatever the mode (but off), before the others
   * and past the daily cap; one already sent goes again whole (the county lost its copy).
   */
  request(id: string): void {
    if (this.o.upload.mode === 'off') return;
    if (this.state.isSent(id)) this.state.again(id);
    this.requested.add(id);
    this.wake();
  }

  /** Pictures waiting to go under the current mode (what `status` reports). */
  pending(): number {
    return this.o.store.list().filter((p) => this.wanted(p)).length;
  }

  peek(): IdleMessage | null {
    if (!this.up || this.onWire || this.loading || this.o.clock.monoMs() < this.pausedUntilMono) return null;
    const current = this.loaded && this.o.store.get(this.loaded.pic.id) ? this.loaded : null;
    if (!current) {
      this.loaded = null;
      const next = this.next();
      if (next) this.load(next);
      return null;
    }
    const { pic, chunks } = current;
    const i = this.state.acked(pic.id) + 1;
    const payload = chunks[i]!;
    if (!this.requested.has(pic.id) && !this.state.mayspend(payload.length, this.o.upload.maxBytesPerDay)) {
      // Over today's cap: a picture the county asked for is not kept behind it (this one resumes tomorrow).
      const asked = this.next();
      if (asked && this.requested.has(asked.id)) {
        this.loaded = null;
        this.load(asked);
      } else this.wakeAt(this.state.msToNextDay());
      return null;
    }
    return {
      topic: `${this.o.prefix}/${MEDIA_SUBTOPIC}/${pic.id}`,
      payload,
      sent: () => {
        this.onWire = true;
        this.state.spent(payload.length);
      },
      settle: (err) => {
        this.onWire = false;
        if (err) return this.refused(err);
        this.counts.chunks += 1;
        const done = i === chunks.length - 1;
        this.state.ack(pic.id, i, done);
        if (done) {
          this.counts.pictures += 1;
          this.requested.delete(pic.id);
          this.loaded = null;
        }
      },
    };
  }

  /** What `status` says of the pictures: stored, waiting to go under the mode, and sent. */
  describe(): MediaReport {
    const { store, upload } = this.o;
    return {
      stored: store.list().length,
      bytes: store.usedBytes,
      mode: upload.mode,
      pendingUpload: this.pending(),
      sentToday: this.dayBytes,
      maxBytesPerDay: upload.maxBytesPerDay,
      ...this.counts,
      problem: store.problem,
    };
  }

  /** Bytes of pictures sent today (UTC), against maxBytesPerDay. */
  get dayBytes(): number {
    return this.state.dayBytes;
  }

  /** Resolves once the upload state is on disk. */
  flushed(): Promise<void> {
    return this.state.flushed();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.up = false;
  }

  private wanted(p: StoredPicture): boolean {
    const { mode } = this.o.upload;
    if (mode === 'off' || this.state.isSent(p.id)) return false;
    return this.requested.has(p.id) || mode === 'always' || (mode === 'auto' && p.alarm);
  }

  /** Requested first, then alarm pictures, then the others; oldest first within each (list() is oldest first). */
  private next(): StoredPicture | null {
    for (const id of this.requested) if (!this.o.store.get(id)) this.requested.delete(id); // evicted or expired meanwhile
    const wanted = this.o.store.list().filter((p) => this.wanted(p));
    const rank = (p: StoredPicture) => (this.requested.has(p.id) ? 0 : p.alarm ? 1 : 2);
    return wanted.sort((a, b) => rank(a) - rank(b) || a.takenAt - b.takenAt)[0] ?? null;
  }

  private load(pic: StoredPicture): void {
    this.loading = true;
    this.o.store
      .read(pic.id)
      .then((bytes) => {
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        const info = {
          size: bytes.length,
          sha256,
          type: 'image/jpeg' as const,
          cameraId: pic.cameraId,
          eventId: this.o.eventIdOf?.(pic) ?? null,
          takenAt: new Date(pic.takenAt).toISOString(),
        };
        // A picture begun under another chunk size keeps it: the county's half of it counts those chunks.
        const chunkBytes = this.state.chunkBytesOf(pic.id) ?? this.o.upload.chunkBytes;
        this.state.begin(
          pic.id,
          chunkBytes,
          this.o.store.list().map((x) => x.id),
        );
        this.loaded = { pic, chunks: chunksOf(pic.id, bytes, info, chunkBytes) };
      })
      .catch((err: unknown) => {
        // Evicted or expired between list() and read(): the next one is taken.
        this.o.logger.warn(failure('MEDIA_NOT_FOUND', err, { pictureId: pic.id }), 'picture not uploaded');
      })
      .finally(() => {
        this.loading = false;
        this.wake();
      });
  }

  private refused(err: Error): void {
    this.counts.refused += 1;
    this.o.logger.warn(failure('PUBLISH_FAILED', err, { media: true }), 'picture chunk not acknowledged');
    this.pausedUntilMono = this.o.clock.monoMs() + REFUSED_PAUSE_MS;
    this.wakeAt(REFUSED_PAUSE_MS);
  }

  private wakeAt(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.wake();
    }, ms);
    this.timer.unref();
  }
}
