/**
 * A picture with every alarm that matters: on an alarm-class camera event (its profile says
 * which) and on a rule's `snapshot` action, the camera's picture is fetched at once, stored in
 * the media store and named by a `camera.picture` event. Nothing waits for it: the event that
 * asked is already on the bus and in the outbox's queue before the fetch starts, a panic press
 * meanwhile goes its own way, and a failed fetch or store is counted and logged once a minute
 * per camera and code (a camera that keeps failing must not fill the SD card with lines).
 */
import type { Logger } from 'pino';
import type { EventInput, GatewayEvent } from '../../core/contracts/event.js';
import { failure, GatewayError, type ErrorCode } from '../../core/kernel/errors.js';
import type { MediaStore, StoredPicture } from './media-store.js';

/** Who asked for a picture on request (agent/media/media-requests.ts). */
export interface PictureRequester {
  request: 'county' | 'node-red';
  command: string | null;
  by: string | null;
  /** The county key that signed the command, when commands are signed. */
  keyId?: string;
}

export type PictureCause =
  { event: string; type: string } | { rule: string; event: string | null; type: string | null } | PictureRequester;

/** A picture stored, as camera.picture names it. */
export type TakenPicture = StoredPicture & { sha256: string };

export interface PicturePorts {
  /** Null: the media folder could not be opened, and every picture is refused. */
  store: MediaStore | null;
  /** Told of each picture stored and the event it was taken for (the uploader names it in chunk 0). */
  stored?: (pictureId: string, eventId: string | null) => void;
  logger: Logger;
  monoMs(): number;
  capture(cameraId: string, channel?: number): Promise<Buffer>;
  emit(e: EventInput): Promise<GatewayEvent>;
}

const LOG_EVERY_MS = 60_000;

export class Pictures {
  readonly counts = { asked: 0, stored: 0, failed: 0 };
  /** Failures by code, since start (what `status` and the tests read). */
  readonly failures = new Map<ErrorCode, number>();
  private readonly logged = new Map<string, number>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly p: PicturePorts) {}

  /** An event on the bus: a camera's alarm-class event asks for its picture (the rest pass by). */
  onEvent(e: GatewayEvent): void {
    // An alarm's end (camera.tamper_ended) asks for nothing: the picture was taken when it began.
    if (!e.type.startsWith('camera.') || e.type === 'camera.picture' || e.type.endsWith('_ended')) return;
    const data = e.data as { alarm?: unknown; protocol?: unknown; channel?: unknown };
    if (data.alarm !== true || typeof data.protocol !== 'string') return; // a wired input's camera has no URL
    // An alarm input's number is not a video channel: its picture is channel 1's.
    const channel = e.type.startsWith('camera.alarm_input') || typeof data.channel !== 'number' ? 1 : data.channel;
    this.take(e.deviceId, channel, { event: e.id, type: e.type }, true);
  }

  /** Fetches, stores and reports one picture; never throws, never makes the caller wait. */
  take(cameraId: string, channel: number, cause: PictureCause, alarm: boolean): void {
    this.taken(cameraId, channel, cause, alarm).catch(() => undefined); // counted and logged in run()
  }

  /** The same, for a caller that waits: the picture stored, or why not (counted and logged the same way). */
  taken(cameraId: string, channel: number, cause: PictureCause, alarm: boolean): Promise<TakenPicture> {
    this.counts.asked += 1;
    const job = this.run(cameraId, channel, cause, alarm);
    const tracked: Promise<void> = job.then(
      () => undefined,
      () => undefined,
    );
    void tracked.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
    return job;
  }

  /** Resolves once the pictures being taken now are stored or given up (stop, tests). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private async run(cameraId: string, channel: number, cause: PictureCause, alarm: boolean): Promise<TakenPicture> {
    try {
      const store = this.p.store;
      // Nothing is fetched that could not be kept (the folder is tried again for each picture).
      if (!store || !store.ready())
        throw new GatewayError('MEDIA_NO_ROOM', `the media folder cannot be opened: ${store?.problem ?? 'none'}`);
      const jpeg = await this.p.capture(cameraId, channel);
      const pic = await store.put(jpeg, { cameraId, alarm });
      const { id, bytes, sha256, takenAt } = pic;
      this.counts.stored += 1;
      // A picture taken on request belongs to no event (chunk 0 says eventId: null).
      this.p.stored?.(id, 'event' in cause ? cause.event : null);
      await this.p.emit({
        deviceId: cameraId,
        type: 'camera.picture',
        priority: 'normal',
        data: { picture: { id, bytes, sha256, takenAt, channel, alarm }, cause },
      });
      return pic;
    } catch (err) {
      this.failed(cameraId, cause, err);
      throw err;
    }
  }

  private failed(cameraId: string, cause: PictureCause, err: unknown): void {
    this.counts.failed += 1;
    const code: ErrorCode = err instanceof GatewayError ? err.code : 'CAMERA_SNAPSHOT_FAILED';
    this.failures.set(code, (this.failures.get(code) ?? 0) + 1);
    const key = `${cameraId}|${code}`;
    const now = this.p.monoMs();
    const last = this.logged.get(key);
    if (last !== undefined && now - last < LOG_EVERY_MS) return;
    this.logged.set(key, now);
    this.p.logger.warn(
      failure(code, err, { camera: cameraId, cause, count: this.failures.get(code)! }),
      'camera picture not stored',
    );
  }
}
