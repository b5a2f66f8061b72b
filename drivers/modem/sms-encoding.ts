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

/** Splits into parts that each fit one SMS, prefixing "(i/n) " when there is more than one. */
export function splitSms(text: string, encoding: SmsEncoding, gsmMax = 160, ucs2Max = 70): string[] {
  const max = encoding === 'gsm' ? gsmMax : ucs2Max;
  const chars = [...text]; // code points: never split a surrogate pair
  if (chars.length <= max) return [text];
  const prefix = 8; // "(nn/nn) "
  const size = max - prefix;
  const n = Math.ceil(chars.length / size);
  return Array.from({ length: n }, (_, i) => `(${i + 1}/${n}) ${chars.slice(i * size, (i + 1) * size).join('')}`);
}
