/**
 * A simulated camera's pictures: the real JPEG a snapshot URL gives (Hikvision
 * /ISAPI/Streaming/channels/<n>/picture, Dahua /cgi-bin/snapshot.cgi), and what a hostile or
 * broken camera gives instead (issue 19, item 7): an HTML page, a body that never ends, a
 * 100 MB "JPEG", a slow drip, or a real JPEG under a wrong Content-Type (which must pass).
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Brand } from './camera-framing.js';

export const SNAPSHOT_MODES = ['html', 'json', 'endless', 'huge', 'slow-drip', 'wrong-type'] as const;
export type SnapshotMode = (typeof SNAPSHOT_MODES)[number];

const HUGE = 100 * 1024 * 1024;

/** The first of these files that can be read (a fixture seen from the sources, run by vitest, or from dist/). */
export function readFirst(candidates: URL[], name: string): Buffer {
  for (const url of candidates) {
    try {
      return readFileSync(url);
    } catch {
      // not from here
    }
  }
  throw new Error(`${name} not found`);
}

/** The repository's gate-camera picture. */
const fixture = () =>
  readFirst(
    ['../../test/fixtures/gate-camera.jpg', '../../../test/fixtures/gate-camera.jpg'].map(
      (r) => new URL(r, import.meta.url),
    ),
    'test/fixtures/gate-camera.jpg',
  );

/** A valid JPEG `padTo` bytes or a little more: the picture with comment (COM) segments after its start marker. */
export function paddedJpeg(jpeg: Buffer, padTo: number): Buffer {
  const parts: Buffer[] = [jpeg.subarray(0, 2)];
  let n = jpeg.length;
  while (n < padTo) {
    const len = Math.min(65535, padTo - n + 4);
    const seg = Buffer.alloc(len + 2, 0x20);
    seg[0] = 0xff;
    seg[1] = 0xfe;
    seg.writeUInt16BE(len, 2);
    parts.push(seg);
    n += seg.length;
  }
  parts.push(jpeg.subarray(2));
  return Buffer.concat(parts);
}

export const isSnapshotPath = (brand: Brand, path: string): boolean =>
  brand === 'hikvision'
    ? /^\/ISAPI\/Streaming\/channels\/\d+\/picture(\?|$)/.test(path)
    : path.startsWith('/cgi-bin/snapshot.cgi');

export class SnapshotServer {
  /** The picture served (the fixture unless a test sets another). */
  jpeg: Buffer = fixture();
  mode: SnapshotMode | null = null;
  /** Wait before answering (a busy camera). */
  delayMs = 0;
  /** Snapshot requests let in, the paths asked for, and the most served at once. */
  served = 0;
  readonly paths: string[] = [];
  concurrentMax = 0;
  private concurrent = 0;
  private readonly timers = new Set<NodeJS.Timeout>();

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.served += 1;
    this.paths.push(req.url ?? '');
    this.concurrent += 1;
    this.concurrentMax = Math.max(this.concurrentMax, this.concurrent);
    res.on('close', () => (this.concurrent -= 1));
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.answer(res);
    }, this.delayMs);
    this.timers.add(t);
  }

  private answer(res: ServerResponse): void {
    const every = (ms: number, run: () => void) => {
      const t = setInterval(run, ms);
      this.timers.add(t);
      res.on('close', () => {
        clearInterval(t);
        this.timers.delete(t);
      });
    };
    switch (this.mode) {
      case null:
        res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': this.jpeg.length }).end(this.jpeg);
        return;
      case 'wrong-type':
        res.writeHead(200, { 'content-type': 'text/plain' }).end(this.jpeg);
        return;
      case 'html':
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Please log in</body></html>');
        return;
      case 'json':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"error":{"code":287637505}}');
        return;
      case 'endless':
        res.writeHead(200, { 'content-type': 'image/jpeg' });
        res.write(this.jpeg.subarray(0, 4));
        every(5, () => res.write(Buffer.alloc(16 * 1024, 0x55)));
        return;
      case 'huge': {
        res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': HUGE });
        res.write(this.jpeg.subarray(0, 4));
        let sent = 4;
        const chunk = Buffer.alloc(64 * 1024, 0x55);
        const pump = () => {
          while (sent < HUGE && !res.destroyed && res.write(chunk)) sent += chunk.length;
        };
        res.on('drain', pump);
        pump();
        return;
      }
      case 'slow-drip': {
        res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': this.jpeg.length });
        let i = 0;
        every(100, () => res.write(this.jpeg.subarray(i, ++i)));
        return;
      }
    }
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
