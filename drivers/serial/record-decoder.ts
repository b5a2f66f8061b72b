/**
 * From one record (a line or a frame) to named fields, as the profile says: regex named
 * groups, CSV columns, a JSON object, or an EV1527 code. Pure; returns null for a record
 * that does not decode (the caller counts it).
 */
import type { SerialDecode } from '../../config/schema/profile.js';

export type Fields = Record<string, string | number | boolean>;

const NUMBER = /^-?\d+(\.\d+)?$/;
const value = (s: string): string | number => (NUMBER.test(s) && s.length < 16 ? Number(s) : s);

export function recordDecoder(decode: SerialDecode): (record: string | Buffer) => Fields | null {
  switch (decode.kind) {
    case 'regex': {
      const re = new RegExp(decode.pattern);
      return (record) => {
        const m = re.exec(typeof record === 'string' ? record : record.toString('latin1'));
        if (!m?.groups) return null;
        const out: Fields = {};
        for (const [k, v] of Object.entries(m.groups)) if (v !== undefined) out[k] = value(v);
        return out;
      };
    }
    case 'csv':
      return (record) => {
        const cells = (typeof record === 'string' ? record : record.toString('latin1')).split(decode.separator);
        if (cells.length !== decode.columns.length) return null;
        const out: Fields = {};
        decode.columns.forEach((c, i) => (out[c] = value(cells[i]!.trim())));
        return out;
      };
    case 'json':
      return (record) => {
        let obj: unknown;
        try {
          obj = JSON.parse(typeof record === 'string' ? record : record.toString('utf8'));
        } catch {
          return null;
        }
        if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return null;
        const out: Fields = {};
        for (const [k, v] of Object.entries(obj)) if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
        return decode.require.every((k) => k in out) ? out : null;
      };
    case 'ev1527':
      return (record) => {
        const b = typeof record === 'string' ? Buffer.from(record, 'latin1') : record;
        if (b.length < decode.codeOffset + 3) return null;
        const code = (b[decode.codeOffset]! << 16) | (b[decode.codeOffset + 1]! << 8) | b[decode.codeOffset + 2]!;
        return {
          code: code.toString(16).toUpperCase().padStart(6, '0'),
          sensor: (code >>> 4).toString(16).toUpperCase().padStart(5, '0'),
          key: code & 0xf,
        };
      };
  }
}
