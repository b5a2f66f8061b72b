/**
 * Is it a picture? Cameras answer a snapshot request with an HTML login page, a JSON error,
 * a cut-off body or, hostile, 100 MB of anything; only a whole JPEG is stored. Checked from the
 * bytes, never the camera's Content-Type: a start-of-image marker followed by a marker
 * segment, and the end-of-image marker at the end (some cameras pad a few bytes after it).
 */

/** Trailing bytes a camera may leave after the end-of-image marker (zero padding, a CRLF). */
const TAIL_SLACK = 16;

/** Why the bytes are not a JPEG, or null when they are one. */
export function notJpeg(b: Uint8Array): string | null {
  if (b.length < 128) return `too short for a picture (${b.length} bytes)`;
  if (b[0] !== 0xff || b[1] !== 0xd8 || b[2] !== 0xff) {
    const head = Buffer.from(b.subarray(0, 16))
      .toString('latin1')
      .replace(/[^\x20-\x7e]/g, '.');
    return `no JPEG start marker (starts "${head}")`;
  }
  for (let i = b.length - 2; i >= Math.max(2, b.length - 2 - TAIL_SLACK); i--)
    if (b[i] === 0xff && b[i + 1] === 0xd9) return null;
  return 'no JPEG end marker: the picture was cut off';
}
