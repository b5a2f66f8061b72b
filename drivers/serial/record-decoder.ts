/**
 * From one record (a line or a frame) to named fields, as the profile says: regex named
 * groups, CSV columns, a JSON object, or an EV1527 code. Pure; returns null for a record
 * that does not decode (the caller counts it).
 */
import type { SerialDecode } from '../../config/schema/profile.js';
import { positionalRegex } from './positional-regex.js';

export type Fields = Record<string, string | number | boolean>;

/**
 * Decimal text becomes a number (so rules can say `key: 14`); anything else stays text,
 * including exponents and hex ("1E5" is a sensor id, not 100000).
 */
const value = (s: string): string | number => {
  const n = s.length;
  if (n === 0 || n > 15) return s;
  let i = s.charCodeAt(0) === 45 ? 1 : 0; // '-'
  if (i === n) return s;
  let dot = false;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46 && !dot)
      dot = true; // '.'
    else if (c < 48 || c > 57) return s;
  }
  return Number(s);
};

export function recordDecoder(decode: SerialDecode): (record: string | Buffer) => Fields | null {
  switch (decode.kind) {
    case 'regex': {
      const { re, names } = positionalRegex(decode.pattern);
      return (record) => {
        const m = re.exec(typeof record === 'string' ? record : record.toString('latin1'));
        if (!m) return null;
        const out: Fields = {};
        for (const [k, i] of names) {
          const v = m[i];
          if (v !== undefined) out[k] = value(v);
        }
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
        for (const [k, v] of Object.entries(obj))
          if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
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
