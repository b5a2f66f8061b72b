/**
 * The pictures cameras took, in `dataDir/media`: one JPEG file each, named so that the folder
 * alone is the index (`<takenAtMs>.<a|n>.<uuidv7>.<cameraId>.jpg`, `a` for a picture taken for
 * an alarm), so a restart needs no second file to agree with it and a power cut cannot leave
 * the two apart.
 *
 * A picture is written crash-safe (temp file, fsync, rename, fsync of the folder), off the
 * event loop: an SD card's fsync takes tens of ms, and a panic press must not wait for it. A
 * temp file left by a power cut is deleted at open. Pictures never take what the outbox's
 * events need: one is stored only while the outbox's disk reserve is held (released, the room
 * is the alarms') and the card keeps `minFreeBytes` free after it. Room is made by age first
 * (`maxAgeDays`: privacy, alarm pictures included), then by the byte cap, oldest first, the
 * non-alarm pictures before any alarm picture; a non-alarm picture never pushes out an alarm's.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statfsSync, statSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../core/kernel/clock.js';
import { GatewayError } from '../../core/kernel/errors.js';
import { uuidv7 } from '../../core/kernel/uuidv7.js';
import type { MediaConfig } from '../../config/schema/media.js';
import { notJpeg } from './jpeg.js';
import { writeFileDurablyAsync } from '../durable-file.js';

/** A stored picture as an event names it. */
export interface StoredPicture {
  id: string;
  cameraId: string;
  /** Taken for an alarm: kept before other pictures when room is short. */
  alarm: boolean;
  bytes: number;
  /** Wall-clock ms the gateway took it (the camera's own clock is not trusted). */
  takenAt: number;
}

export interface MediaStorePorts {
  dir: string;
  config: MediaConfig;
  clock: Clock;
  /** Whether the outbox's disk reserve is held: while it is out, the room belongs to alarms. */
  reserveHeld(): boolean;
  /** Whether the county has this picture whole (the uploader knows); such an alarm picture goes before an unsent one. */
  sent?(id: string): boolean;
}

const NAME = /^(\d{1,15})\.([an])\.([0-9a-f-]{36})\.([A-Za-z0-9][A-Za-z0-9_.-]{0,63})\.jpg$/;
const TEMP = /^\.tmp-/;

export class MediaStore {
  /** Oldest first (names sort by time only within equal lengths; sorted by takenAt at open). */
  private readonly pictures: StoredPicture[] = [];
  private used = 0;
  /** Bytes of pictures being written now: counted against the cap and the card before they land. */
  private pending = 0;
  /** Pictures refused (not a JPEG, too big, no room) and removed, since start. */
  readonly counts = { stored: 0, refused: 0, evicted: 0, expired: 0 };
  private readonly listeners = new Set<(pic: StoredPicture) => void>();

  /** Why the folder could not be opened (null: open). Pictures wait for it; nothing else does. */
  private unopened: string | null = null;

  /**
   * Never throws: a picture folder that cannot be made or read (a full or read-only card, a
   * file in its place) must not keep the agent, and its alarms, from starting. It is tried
   * again at the next picture.
   */
  constructor(private readonly p: MediaStorePorts) {
    this.open();
  }

  /** Why the store cannot take pictures now, or null. */
  get problem(): string | null {
    return this.unopened;
  }

  /** Whether the folder is open, trying it again if it was not. */
  ready(): boolean {
    return this.unopened === null || this.open();
  }

  private open(): boolean {
    try {
      mkdirSync(this.p.dir, { recursive: true });
      const found: StoredPicture[] = [];
      for (const name of readdirSync(this.p.dir)) {
        if (TEMP.test(name)) {
          rmSync(join(this.p.dir, name), { force: true }); // a write a power cut interrupted
          continue;
        }
        const m = NAME.exec(name);
        if (!m) continue; // not ours: left alone
        const bytes = statSync(join(this.p.dir, name)).size;
        found.push({ id: m[3]!, cameraId: m[4]!, alarm: m[2] === 'a', bytes, takenAt: Number(m[1]) });
      }
      found.sort((a, b) => a.takenAt - b.takenAt);
      this.pictures.splice(0, this.pictures.length, ...found);
      this.used = found.reduce((n, x) => n + x.bytes, 0);
      this.unopened = null;
      return true;
    } catch (err) {
      this.unopened = `${this.p.dir}: ${(err as Error).message}`;
      return false;
    }
  }

  /** Bytes all pictures take. */
  get usedBytes(): number {
    return this.used;
  }

  /** Called after each picture is stored (the uploader wakes); returns the unsubscribe. */
  onStored(listener: (pic: StoredPicture) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  list(): readonly StoredPicture[] {
    return this.pictures;
  }

  get(id: string): StoredPicture | undefined {
    return this.pictures.find((x) => x.id === id);
  }

  /** The picture's bytes (for an upload); rejects if it was evicted meanwhile. */
  read(id: string): Promise<Buffer> {
    const pic = this.get(id);
    if (!pic) return Promise.reject(new GatewayError('MEDIA_NOT_FOUND', `no stored picture ${id}`));
    return readFile(this.path(pic));
  }

  /**
   * Stores a picture. Resolves with it and its sha256 (what the event carries); rejects with
   * MEDIA_REFUSED (not a whole JPEG, too big) or MEDIA_NO_ROOM (the outbox's reserve is out,
   * or there is no room without taking what events or alarm pictures need).
   */
  async put(jpeg: Buffer, o: { cameraId: string; alarm: boolean }): Promise<StoredPicture & { sha256: string }> {
    const { config } = this.p;
    const bad =
      jpeg.length > config.maxPictureBytes
        ? `${jpeg.length} bytes, over media.maxPictureBytes (${config.maxPictureBytes})`
        : notJpeg(jpeg);
    if (bad) {
      this.counts.refused += 1;
      throw new GatewayError('MEDIA_REFUSED', `picture from ${o.cameraId} refused: ${bad}`);
    }
    if (!this.ready()) {
      this.counts.refused += 1;
      throw new GatewayError('MEDIA_NO_ROOM', `picture from ${o.cameraId} not stored: ${this.unopened}`);
    }
    this.expire();
    this.makeRoom(jpeg.length, o.alarm);
    const pic: StoredPicture = {
      id: uuidv7(this.p.clock.now()),
      cameraId: o.cameraId,
      alarm: o.alarm,
      bytes: jpeg.length,
      takenAt: this.p.clock.now(),
    };
    const tmp = join(this.p.dir, `.tmp-${pic.id}`);
    this.pending += pic.bytes;
    try {
      await writeFileDurablyAsync(this.path(pic), jpeg, tmp);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      this.counts.refused += 1;
      throw new GatewayError('MEDIA_NO_ROOM', `picture from ${o.cameraId} not stored: ${(err as Error).message}`);
    } finally {
      this.pending -= pic.bytes;
    }
    this.pictures.push(pic);
    this.used += pic.bytes;
    this.counts.stored += 1;
    for (const l of this.listeners) l(pic);
    return { ...pic, sha256: createHash('sha256').update(jpeg).digest('hex') };
  }

  /** Removes pictures older than maxAgeDays (also run before each put); returns how many went. */
  expire(): number {
    const oldest = this.p.clock.now() - this.p.config.maxAgeDays * 86_400_000;
    const old = this.pictures.filter((x) => x.takenAt < oldest);
    for (const pic of old) this.remove(pic);
    this.counts.expired += old.length;
    return old.length;
  }

  /** Deletes a picture (the county has it, or it is evicted). */
  remove(pic: StoredPicture): void {
    const i = this.pictures.indexOf(pic);
    if (i < 0) return;
    rmSync(this.path(pic), { force: true });
    this.pictures.splice(i, 1);
    this.used -= pic.bytes;
  }

  /** Evicts until `bytes` more fit under the cap and the card's free floor, or throws MEDIA_NO_ROOM (evicting nothing). */
  private makeRoom(bytes: number, alarm: boolean): void {
    if (!this.p.reserveHeld())
      throw this.noRoom("the outbox's disk reserve is released: the card's room is for alarm events");
    const { maxBytes, minFreeBytes } = this.p.config;
    // Whom this picture may push out: non-alarm pictures first (oldest first), then, for an alarm picture, older
    // alarm pictures the county already has whole, and only then the ones it has never seen.
    const sent = (x: StoredPicture) => this.p.sent?.(x.id) === true;
    const alarms = this.pictures.filter((x) => x.alarm);
    const victims = this.pictures
      .filter((x) => !x.alarm)
      .concat(alarm ? [...alarms.filter(sent), ...alarms.filter((x) => !sent(x))] : []);
    let overCap = this.used + this.pending + bytes - maxBytes;
    let short = minFreeBytes + this.pending + bytes - this.freeBytes();
    let n = 0;
    while ((overCap > 0 || short > 0) && n < victims.length) {
      overCap -= victims[n]!.bytes;
      short -= victims[n]!.bytes;
      n += 1;
    }
    if (overCap > 0 || short > 0)
      throw this.noRoom(
        overCap > 0
          ? `media.maxBytes (${maxBytes}) is taken by ${alarm ? 'pictures' : 'alarm pictures'}`
          : `the card would keep less than media.minFreeBytes (${minFreeBytes}) free`,
      );
    for (const pic of victims.slice(0, n)) this.remove(pic);
    this.counts.evicted += n;
  }

  private noRoom(why: string): GatewayError {
    this.counts.refused += 1;
    return new GatewayError('MEDIA_NO_ROOM', `picture not stored: ${why}`);
  }

  private freeBytes(): number {
    const fs = statfsSync(this.p.dir);
    return fs.bavail * fs.bsize;
  }

  private path(pic: StoredPicture): string {
    return join(this.p.dir, `${pic.takenAt}.${pic.alarm ? 'a' : 'n'}.${pic.id}.${pic.cameraId}.jpg`);
  }
}
