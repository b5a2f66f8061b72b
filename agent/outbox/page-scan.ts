/**
 * The last resort of salvage: when a table's b-tree cannot be walked (its root or an
 * interior page is damaged), its rows still sit in leaf pages. This reads the SQLite file
 * format directly (https://www.sqlite.org/fileformat2.html): every table-leaf page of the
 * file and of its WAL, every cell's rowid and record, and keeps the text columns that are
 * whole, valid events. What they belong to is decided by the caller (by rowid = pos).
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { eventSchema, type GatewayEvent } from '../../core/contracts/event.js';
import { GatewayError } from '../../core/kernel/errors.js';

export interface ScannedRow {
  pos: number;
  event: GatewayEvent;
  body: string;
}

const LEAF_TABLE = 0x0d;

/**
 * Calls `onRow` for every valid event found in a table-leaf cell of the file, then of its
 * `-wal` (a page at a time: the file may be far larger than the agent's heap).
 */
export function scanPages(file: string, onRow: (row: ScannedRow) => void): void {
  const probe = PageFile.open(file, 0, 100);
  const header = probe?.page(1) ?? null;
  probe?.close();
  if (!header || header.toString('latin1', 0, 15) !== 'SQLite format 3') return;
  const raw = header.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  const usable = pageSize - header[20]!;
  const main = PageFile.open(file, 0, pageSize)!;
  const wal = PageFile.open(`${file}-wal`, 32, pageSize, 24);
  try {
    for (const source of [main, wal]) {
      if (!source) continue;
      for (let n = 1; n <= source.count; n++) {
        const page = source.page(n);
        if (!page) break;
        const headerAt = source === main && n === 1 ? 100 : 0;
        if (page[headerAt] !== LEAF_TABLE) continue;
        // Overflow chains point at page numbers of the main file.
        for (const cell of leafCells(page, headerAt, usable, (k) => main.page(k))) {
          for (const text of recordTexts(cell.payload)) {
            const event = asEvent(text);
            if (event) onRow({ pos: cell.rowid, event, body: text });
          }
        }
      }
    }
  } finally {
    main.close();
    wal?.close();
  }
}

/** Pages of a file read on demand: the main file, or a WAL (a 32-byte header, 24 bytes before each frame). */
class PageFile {
  private constructor(
    private readonly fd: number,
    private readonly size: number,
    private readonly offset: number,
    private readonly pageSize: number,
    private readonly frameHeader: number,
  ) {}

  static open(file: string, offset: number, pageSize: number, frameHeader = 0): PageFile | null {
    if (!existsSync(file)) return null;
    const fd = openSync(file, 'r');
    return new PageFile(fd, fstatSync(fd).size, offset, pageSize, frameHeader);
  }

  get count(): number {
    return Math.floor((this.size - this.offset) / (this.frameHeader + this.pageSize));
  }

  page(n: number): Buffer | null {
    if (n < 1 || n > this.count) return null;
    const buf = Buffer.alloc(this.pageSize);
    const at = this.offset + (n - 1) * (this.frameHeader + this.pageSize) + this.frameHeader;
    return readSync(this.fd, buf, 0, this.pageSize, at) === this.pageSize ? buf : null;
  }

  close(): void {
    closeSync(this.fd);
  }
}

function* leafCells(
  page: Buffer,
  headerAt: number,
  usable: number,
  pageAt: (n: number) => Buffer | null,
): Generator<{ rowid: number; payload: Buffer }> {
  const cells = page.readUInt16BE(headerAt + 3);
  for (let c = 0; c < cells; c++) {
    const ptrAt = headerAt + 8 + c * 2;
    if (ptrAt + 2 > page.length) return;
    try {
      let at = page.readUInt16BE(ptrAt);
      const [size, a] = varint(page, at);
      const [rowid, b] = varint(page, a);
      at = b;
      const maxLocal = usable - 35;
      let local = size;
      if (size > maxLocal) {
        const minLocal = Math.floor(((usable - 12) * 32) / 255) - 23;
        const k = minLocal + ((size - minLocal) % (usable - 4));
        local = k <= maxLocal ? k : minLocal;
      }
      const parts = [page.subarray(at, at + local)];
      let have = local;
      if (size > local) {
        let next = page.readUInt32BE(at + local);
        for (let hops = 0; have < size && next !== 0 && hops < 10_000; hops++) {
          const ov = pageAt(next);
          if (!ov) break;
          const take = Math.min(usable - 4, size - have);
          parts.push(ov.subarray(4, 4 + take));
          have += take;
          next = ov.readUInt32BE(0);
        }
      }
      if (have === size && Number.isSafeInteger(rowid)) yield { rowid, payload: Buffer.concat(parts) };
    } catch {
      // a damaged cell: skip it
    }
  }
}

/** The text columns of a record (none where the record is damaged). */
function recordTexts(payload: Buffer): string[] {
  try {
    return readTexts(payload);
  } catch {
    return [];
  }
}

function readTexts(payload: Buffer): string[] {
  const [headerSize, first] = varint(payload, 0);
  const types: number[] = [];
  for (let at = first; at < headerSize;) {
    const [t, next] = varint(payload, at);
    types.push(t);
    at = next;
  }
  const texts: string[] = [];
  let at = headerSize;
  for (const t of types) {
    const len = t >= 12 ? Math.floor((t - 12) / 2) : [0, 1, 2, 3, 4, 6, 8, 8, 0, 0, 0, 0][t]!;
    if (t >= 13 && t % 2 === 1 && at + len <= payload.length) texts.push(payload.toString('utf8', at, at + len));
    at += len;
  }
  return texts;
}

function asEvent(text: string): GatewayEvent | null {
  if (!text.startsWith('{')) return null;
  try {
    const parsed = eventSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** SQLite's big-endian varint (1-9 bytes). */
function varint(buf: Buffer, at: number): [number, number] {
  let v = 0;
  for (let i = 0; i < 8; i++) {
    const byte = buf[at + i];
    if (byte === undefined) throw new GatewayError('OUTBOX_CORRUPT', 'varint past the end');
    v = v * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) return [v, at + i + 1];
  }
  const last = buf[at + 8];
  if (last === undefined) throw new GatewayError('OUTBOX_CORRUPT', 'varint past the end');
  return [v * 256 + last, at + 9];
}
