/**
 * Hostile cameras (issue 19, item 7): what a broken or malicious camera can put on its event
 * stream. Each mode starts when a stream opens and returns what stops it.
 */
import type { ServerResponse } from 'node:http';
import { BOUNDARY, eventPart, heartbeatPart, part, xmlBomb, type Brand } from './camera-framing.js';

export const HOSTILE_MODES = [
  'malformed',
  'endless-part',
  'huge-body',
  'xml-bomb',
  'slow-drip',
  'html',
  'storm',
] as const;
export type HostileMode = (typeof HOSTILE_MODES)[number];

/** Modes whose bytes a heartbeat would interrupt (it brings a boundary): they send none. */
export const SILENCES_HEARTBEAT: ReadonlySet<HostileMode> = new Set(['endless-part', 'huge-body', 'slow-drip']);

const HUGE = 100 * 1024 * 1024;

export function playHostile(mode: HostileMode, brand: Brand, res: ServerResponse): () => void {
  const b = `--${BOUNDARY[brand]}`;
  let stopped = false;
  const every = (ms: number, run: () => void) => {
    const t = setInterval(run, ms);
    return () => clearInterval(t);
  };
  switch (mode) {
    case 'html':
      return () => undefined; // answered by the simulator itself
    case 'malformed':
      return every(100, () => {
        res.write('garbage that is no boundary\r\n');
        res.write(`${b}\r\nthis part has no header block and no blank line\r\n`);
        // A Content-Length far too long: the next boundary must end the part.
        res.write(`${b}\r\nContent-Type: text/plain\r\nContent-Length: 99999\r\n\r\nshort body\r\n`);
        // Too short: the text that follows is not a boundary, so the boundary wins again.
        res.write(`${b}\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nlonger than three\r\n`);
        res.write(`${b}\r\nContent-Type: text/plain\r\n${'X-Junk: y\r\n'.repeat(2000)}\r\n\r\nbody\r\n`);
        res.write(heartbeatPart(brand));
      });
    case 'endless-part': {
      res.write(`${b}\r\nContent-Type: image/jpeg\r\n\r\n`);
      const chunk = Buffer.alloc(64 * 1024, 0xff);
      return every(10, () => res.write(chunk));
    }
    case 'huge-body': {
      void (async () => {
        res.write(`${b}\r\nContent-Type: image/jpeg\r\nContent-Length: ${HUGE}\r\n\r\n`);
        const mb = Buffer.alloc(1024 * 1024, 0xd8);
        for (let sent = 0; sent < HUGE && !stopped && !res.destroyed; sent += mb.length) {
          if (!res.write(mb)) await new Promise((r) => res.once('drain', r));
        }
        if (!stopped && !res.destroyed) res.write(`\r\n${heartbeatPart(brand)}`);
      })();
      return () => {
        stopped = true;
      };
    }
    case 'xml-bomb':
      return every(200, () => res.write(part(brand, 'application/xml', xmlBomb())));
    case 'slow-drip': {
      const bytes = eventPart(brand, {
        code: brand === 'hikvision' ? 'VMD' : 'VideoMotion',
        state: 'active',
        channel: 1,
      });
      let i = 0;
      return every(50, () => {
        if (i < bytes.length) res.write(bytes[i++]!);
      });
    }
    case 'storm': {
      let n = 0;
      return every(10, () => {
        let text = '';
        for (let k = 0; k < 10; k += 1, n += 1) {
          const on = Math.floor(n / 4) % 2 === 0; // each of 4 regions starts, then stops, then starts...
          text +=
            brand === 'hikvision'
              ? eventPart(brand, { code: 'VMD', state: on ? 'active' : 'inactive', channel: 1, region: String(n % 4) })
              : eventPart(brand, {
                  code: 'VideoMotion',
                  state: on ? 'Start' : 'Stop',
                  channel: 0,
                  region: `R${n % 4}`,
                });
        }
        res.write(text);
      });
    }
  }
}
