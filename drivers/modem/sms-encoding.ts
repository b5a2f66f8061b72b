/**
 * SMS text for AT+CMGS in text mode: plain GSM text where every character is safe in the
 * modem's IRA character set, else UCS2 (Chinese): every string, the number included, as
 * UTF-16 hex (你好吗 -> 4F60597D5417). Long texts are split into numbered parts (text mode
 * has no concatenation header): 160 characters per GSM part, 70 per UCS2 part.
 */
export type SmsEncoding = 'gsm' | 'ucs2';

const GSM_SAFE = /^[A-Za-z0-9 .,!?\-+:;'"()/@#%&*=<>\r\n]*$/;

export function chooseEncoding(text: string): SmsEncoding {
  return GSM_SAFE.test(text) ? 'gsm' : 'ucs2';
}

export function ucs2Hex(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) out += text.charCodeAt(i).toString(16).toUpperCase().padStart(4, '0');
  return out;
}

export function fromUcs2Hex(hex: string): string {
  let out = '';
  for (let i = 0; i + 4 <= hex.length; i += 4) out += String.fromCharCode(parseInt(hex.slice(i, i + 4), 16));
  return out;
}

/**
 * Splits into parts that each fit one SMS, prefixing "(i/n) " when there is more than one. A
 * UCS2 part holds 70 UTF-16 units, so a character outside the BMP (a rare character of a
 * name, CJK extension B; an emoji) counts two there; a surrogate pair is never split.
 */
export function splitSms(text: string, encoding: SmsEncoding, gsmMax = 160, ucs2Max = 70): string[] {
  const max = encoding === 'gsm' ? gsmMax : ucs2Max;
  const chars = [...text]; // code points: never split a surrogate pair
  const size = (c: string) => (encoding === 'ucs2' ? c.length : 1);
  if (chars.reduce((n, c) => n + size(c), 0) <= max) return [text];
  const room = max - 8; // "(nn/nn) "
  const chunks: string[] = [];
  let chunk = '';
  let used = 0;
  for (const c of chars) {
    if (used + size(c) > room) {
      chunks.push(chunk);
      chunk = '';
      used = 0;
    }
    chunk += c;
    used += size(c);
  }
  chunks.push(chunk);
  return chunks.map((part, i) => `(${i + 1}/${chunks.length}) ${part}`);
}
