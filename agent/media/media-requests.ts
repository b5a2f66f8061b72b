/**
 * Pictures on request (issue 19, item 4 and its privacy rules): the county's `picture`
 * (a stored picture sent) and `snapshot` (a fresh picture taken now) commands, and a flow's
 * snapshot (Node-RED). Every request is recorded as a `media.requested` event (who, which
 * camera or picture, the outcome), so a village can always learn who looked through its
 * cameras. Nothing here streams: snapshots are limited per camera (SNAPSHOT_LIMIT), pictures
 * by a budget of their own, and a flood of refused requests is counted in the next record
 * rather than written one event each (a stranger on the command topic must not fill the outbox).
 *
 * A snapshot goes through the same picture taking as an alarm's (Pictures, Driver.capture: one
 * request at a time per camera, its timeout and byte cap), is announced by `camera.picture`
 * with the request as its cause, and is sent up whatever the upload mode but `off` (the county
 * asked). A flow's snapshot is an alarm-class picture like a rule's: it goes up as the mode says.
 */
import { createHash } from 'node:crypto';
import type { EventInput, GatewayEvent } from '../../core/contracts/event.js';
import { GatewayError, replyCode } from '../../core/kernel/errors.js';
import type { MediaConfig } from '../../config/schema/media.js';
import { TokenBucket } from '../uplink/token-bucket.js';
import type { MediaStore } from './media-store.js';
import type { PictureCause, PictureRequester, TakenPicture } from './pictures.js';

/** Snapshots of one camera: at most 6 a minute (one each 10 s), 2 at once; for the county and the flows each. */
export const SNAPSHOT_LIMIT = { perMin: 6, burst: 2 };
/** Stored pictures asked for: at most 30 a minute, all together. */
export const PICTURE_LIMIT = { perMin: 30, burst: 10 };
/** Refused requests recorded one event each: at most 10 a minute; the rest are counted in the next record. */
export const REFUSAL_RECORDS = { perMin: 10, burst: 10 };

export interface MediaRequestPorts {
  gatewayId: string;
  upload: MediaConfig['upload'];
  store: MediaStore;
  /** The uploader: this picture goes now (media-sender.ts's `request`). */
  send(pictureId: string): void;
  /** Why `camera` cannot give a snapshot (UNKNOWN_DEVICE, NO_CAMERA, NO_SNAPSHOT), or null. */
  cameraProblem(camera: string): GatewayError | null;
  take(camera: string, channel: number, cause: PictureCause, alarm: boolean): Promise<TakenPicture>;
  emit(e: EventInput): Promise<GatewayEvent>;
  /** The rate limits' clock (ms, monotonic). */
  monoMs(): number;
}

export interface RequestResult {
  pictureId: string;
  camera: string;
  bytes: number;
  sha256: string | null;
  queued: boolean;
}

type Outcome =
  | { outcome: 'queued' | 'stored'; camera: string; pictureId: string; bytes: number }
  | { outcome: 'refused' | 'failed'; camera: string | null; pictureId: string | null; err: unknown };

const perMin = (l: { perMin: number; burst: number }, now: () => number) =>
  new TokenBucket(l.perMin / 60, l.burst, now);

export class MediaRequests {
  readonly counts = { queued: 0, stored: 0, refused: 0, failed: 0, unrecorded: 0 };
  private readonly snapshots = new Map<string, TokenBucket>();
  private readonly pictures: TokenBucket;
  private readonly records: TokenBucket;
  /** Refusals since the last record that were not recorded (counted in the next one). */
  private unrecorded = 0;

  constructor(private readonly p: MediaRequestPorts) {
    this.pictures = perMin(PICTURE_LIMIT, p.monoMs);
    this.records = perMin(REFUSAL_RECORDS, p.monoMs);
  }

  /** A stored picture sent to the county. Rejects with the reason (recorded either way). */
  async picture(who: PictureRequester, pictureId: string): Promise<RequestResult> {
    const pic = this.p.store.get(pictureId);
    const camera = pic?.cameraId ?? null;
    try {
      this.refuseWhenOff();
      if (!pic)
        throw new GatewayError('MEDIA_NOT_FOUND', `no stored picture ${pictureId} (expired, evicted or never taken)`);
      this.limit(this.pictures, 'pictures are asked for');
    } catch (err) {
      throw await this.record(who, 'picture', { outcome: 'refused', camera, pictureId, err }); // a UUID: safe to record
    }
    // Recorded before it goes: a request that cannot be recorded is not carried out.
    await this.record(who, 'picture', { outcome: 'queued', camera: pic.cameraId, pictureId: pic.id, bytes: pic.bytes });
    this.p.send(pic.id);
    const sha256 = await this.sha256Of(pic.id);
    return { pictureId: pic.id, camera: pic.cameraId, bytes: pic.bytes, sha256, queued: true };
  }

  /** A fresh picture from `camera`, stored and queued (the county's reply waits for it). Rejects with the reason. */
  async snapshot(who: PictureRequester, camera: string, channel: number): Promise<RequestResult> {
    const { taking } = await this.begin(who, camera, channel);
    return taking;
  }

  /**
   * Checks and limits a snapshot at once (a refusal rejects, recorded); then `taking` resolves
   * once the picture is stored and queued. A flow leaves it running: its request times out fast.
   */
  async begin(who: PictureRequester, camera: string, channel: number): Promise<{ taking: Promise<RequestResult> }> {
    try {
      this.refuseWhenOff();
      const problem = this.p.cameraProblem(camera);
      if (problem) throw problem;
      // Per camera and per asker (a looping flow never takes the county's turn); only configured cameras get here.
      const key = `${who.request}|${camera}`;
      let bucket = this.snapshots.get(key);
      if (!bucket) this.snapshots.set(key, (bucket = perMin(SNAPSHOT_LIMIT, this.p.monoMs)));
      this.limit(bucket, `snapshots are asked of ${camera}`);
    } catch (err) {
      throw await this.record(who, 'snapshot', { outcome: 'refused', camera, pictureId: null, err });
    }
    const county = who.request === 'county';
    const taking = this.p.take(camera, channel, who, !county).then(
      async (pic) => {
        const outcome = county ? 'queued' : 'stored';
        await this.record(who, 'snapshot', { outcome, camera, pictureId: pic.id, bytes: pic.bytes });
        // Under on-request the county's snapshot goes because it asked; a flow's goes as the mode says.
        if (county) this.p.send(pic.id);
        return { pictureId: pic.id, camera, bytes: pic.bytes, sha256: pic.sha256, queued: county };
      },
      async (err: unknown) => {
        throw await this.record(who, 'snapshot', { outcome: 'failed', camera, pictureId: null, err });
      },
    );
    return { taking };
  }

  private refuseWhenOff(): void {
    if (this.p.upload.mode === 'off')
      throw new GatewayError('MEDIA_OFF', 'media.upload.mode is off on this gateway: no picture goes to the county');
  }

  private limit(bucket: TokenBucket, what: string): void {
    const waitMs = bucket.take();
    if (waitMs > 0)
      throw new GatewayError('RATE_LIMITED', `${what} too often: the next in ${Math.ceil(waitMs / 1000)} s`, {
        retryable: true,
        detail: { retryInMs: waitMs },
      });
  }

  /** The stored picture's SHA-256 (what the county checks the put-together picture against); null: gone meanwhile. */
  private async sha256Of(id: string): Promise<string | null> {
    const bytes = await this.p.store.read(id).catch(() => null);
    return bytes ? createHash('sha256').update(bytes).digest('hex') : null;
  }

  /**
   * Records the request as media.requested and returns the error to throw (for a refusal or a
   * failure). A refusal past its budget is only counted: the next record says how many.
   */
  private async record(who: PictureRequester, what: 'picture' | 'snapshot', o: Outcome): Promise<unknown> {
    const err = 'err' in o ? o.err : null;
    this.counts[o.outcome] += 1;
    if (o.outcome === 'refused' && this.records.take() > 0) {
      this.unrecorded += 1;
      this.counts.unrecorded += 1;
      return err;
    }
    const unrecorded = this.unrecorded;
    this.unrecorded = 0;
    await this.p
      .emit({
        // The camera's own id when it is a configured device; a made-up name is the gateway's record.
        deviceId: o.camera && this.p.cameraProblem(o.camera)?.code !== 'UNKNOWN_DEVICE' ? o.camera : this.p.gatewayId,
        type: 'media.requested',
        priority: 'normal',
        data: {
          ...who,
          what,
          camera: o.camera,
          pictureId: o.pictureId,
          outcome: o.outcome,
          code: err === null ? null : replyCode(err),
          bytes: 'bytes' in o ? o.bytes : null,
          ...(unrecorded > 0 ? { unrecorded } : {}),
        },
      })
      // The record could not be stored (the outbox refused it): the request is refused too, never unrecorded.
      .catch((e: unknown) => {
        if (err === null) throw e;
      });
    return err;
  }
}
