/**
 * The delivery verdict's pictures (issue 19): every chunk on `<prefix>/<gatewayId>/media/<pictureId>`
 * is put together by the county's own PictureAssembler, and each picture is judged against the
 * `camera.picture` event that names it (data.picture: id, bytes, sha256):
 *  - whole: put together, its sha256 the one chunk 0 promised, and size and sha256 the event's;
 *  - corrupt: a chunk refused (a header that disagrees, an index past the count, a count past
 *    the limits, offsets that do not meet) or a whole picture that is not what chunk 0 or the
 *    event says;
 *  - incomplete: some chunks came, not all (a cut that never resumed, a picture the assembler
 *    had to drop to stay in its bounds);
 *  - never announced: whole, but no `camera.picture` named it (the county would hold a picture
 *    it cannot tie to a camera's alarm);
 *  - not sent: announced, and no chunk at all. Not a problem by default: `media.upload.mode`
 *    (`auto` sends alarm pictures only, `on-request` and `off` none) and the daily byte cap
 *    hold pictures back by design. With `required`, each is a problem (the demo: its
 *    intrusion's picture must arrive).
 * Bounded like the assembler: only pictures' ids, sizes and hashes are kept, never their bytes.
 */
import { PictureAssembler } from './picture-assembler.js';

export interface PictureVerdict {
  /** `camera.picture` events received (distinct pictures). */
  announced: number;
  /** Pictures put together and matching their event. */
  whole: number;
  /** Announced pictures of which no chunk arrived (held back by the upload mode or the cap). */
  notSent: string[];
  incomplete: string[];
  corrupt: string[];
  unannounced: string[];
  /** Chunks that could not be tied to a picture at all (no picture id in the topic or header). */
  strayChunks: number;
}

interface Announced {
  gatewayId: string;
  cameraId: string;
  eventId: string;
  bytes: unknown;
  sha256: unknown;
}

/** Pictures named in each list of the verdict (the counts are always whole). */
const MAX_NAMED = 20;
/** Pictures remembered per kind: a stranger's flood of ids must not grow the checker without end. */
const MAX_TRACKED = 10_000;

export class PictureCheck {
  private readonly assembler = new PictureAssembler();
  private readonly announced = new Map<string, Announced>();
  private readonly whole = new Map<string, { size: number; sha256: string; gatewayId: string }>();
  private readonly corrupt = new Map<string, string>();
  /** Pictures with at least one chunk: their gateway and the chunks of the count that came. */
  private readonly seen = new Map<string, { gatewayId: string; have: number; of: number }>();
  private strayChunks = 0;
  /** Chunk messages received, duplicates and refused ones included. */
  chunks = 0;

  constructor(private readonly required = false) {}

  /** An event that arrived: a `camera.picture` announces its picture. */
  event(ev: { id: string; gatewayId: string; deviceId?: unknown; type: string; data?: Record<string, unknown> }): void {
    if (ev.type !== 'camera.picture') return;
    const p = ev.data?.picture as { id?: unknown; bytes?: unknown; sha256?: unknown } | undefined;
    // Not bounded here: the checker keeps every event anyway, and a lost announcement would make a false problem.
    if (typeof p?.id !== 'string') return;
    this.announced.set(p.id, {
      gatewayId: ev.gatewayId,
      cameraId: typeof ev.deviceId === 'string' ? ev.deviceId : '?',
      eventId: ev.id,
      bytes: p.bytes,
      sha256: p.sha256,
    });
  }

  /** One chunk message: the gateway and picture id its topic names (null: the topic named none). */
  chunk(gatewayId: string, topicPictureId: string | null, payload: Buffer): void {
    this.chunks += 1;
    const out = this.assembler.receive(payload);
    const id = (out.kind === 'picture' ? out.picture.id : out.id) ?? topicPictureId;
    if (id === null) {
      this.strayChunks += 1;
      return;
    }
    if (out.kind === 'refused') {
      // Dropped to stay within the assembler's bounds: the picture was not wrong, it stays incomplete.
      if (out.reason.startsWith('dropped:')) return;
      if (!this.corrupt.has(id) && this.corrupt.size < MAX_TRACKED) this.corrupt.set(id, out.reason);
      return;
    }
    if (out.kind === 'partial' && this.seen.size < MAX_TRACKED) this.seen.set(id, { gatewayId, ...out });
    if (out.kind === 'picture') {
      this.seen.delete(id);
      if (this.whole.size < MAX_TRACKED)
        this.whole.set(id, { size: out.picture.size, sha256: out.picture.sha256, gatewayId });
    }
  }

  verdict(): { pictures: PictureVerdict; problems: string[] } {
    const v: PictureVerdict = {
      announced: this.announced.size,
      whole: 0,
      notSent: [],
      incomplete: [],
      corrupt: [],
      unannounced: [],
      strayChunks: this.strayChunks,
    };
    for (const [id, why] of this.corrupt) v.corrupt.push(`${id}: ${why}`);
    for (const [id, w] of this.whole) {
      if (this.corrupt.has(id)) continue; // a chunk of it was refused: named once, as corrupt
      const a = this.announced.get(id);
      if (!a) v.unannounced.push(`${id} (${w.gatewayId}, ${w.size} bytes)`);
      else if (a.bytes !== w.size || a.sha256 !== w.sha256)
        v.corrupt.push(
          `${id}: put together ${w.size} bytes sha256 ${w.sha256.slice(0, 12)}, camera.picture ${a.eventId} says ${String(a.bytes)} bytes sha256 ${String(a.sha256).slice(0, 12)}`,
        );
      else v.whole += 1;
    }
    for (const [id, s] of this.seen)
      if (!this.corrupt.has(id)) v.incomplete.push(`${id} (${s.gatewayId}): ${s.have} of ${s.of} chunks`);
    for (const [id, a] of this.announced) {
      if (this.whole.has(id) || this.seen.has(id) || this.corrupt.has(id)) continue;
      v.notSent.push(`${id} (${a.gatewayId} ${a.cameraId}, camera.picture ${a.eventId})`);
    }
    const problems: string[] = [];
    const say = (list: string[], what: string) => {
      if (list.length === 0) return;
      const named = list.slice(0, MAX_NAMED).join('; ');
      problems.push(`${list.length} ${what}: ${named}${list.length > MAX_NAMED ? '; ...' : ''}`);
    };
    say(v.corrupt, 'pictures corrupt');
    say(v.incomplete, 'pictures incomplete');
    say(v.unannounced, 'pictures never announced by a camera.picture event');
    if (this.required) say(v.notSent, 'pictures announced, no chunk of them arrived');
    if (v.strayChunks > 0) problems.push(`${v.strayChunks} picture chunks name no picture`);
    return { pictures: v, problems };
  }
}
