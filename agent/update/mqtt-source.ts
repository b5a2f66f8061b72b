/**
 * A release bundle pulled over the broker (`update {mqtt: true, version}`): each file asked for
 * in `CHUNK_BYTES` pieces, one at a time, through the drain's idle lane (chunk-requests.ts), from
 * the county's update server (scripts/county/update-server.ts). One file at a time: the link is
 * the limit, and one answer on the downlink at a time keeps an alarm's way clear.
 *
 * Resumable within a run: a silence or a new link asks again for the same offset, the bytes
 * already written stay. An agent restart mid-transfer starts over: the stager removes the
 * staging folder a stopped agent left, and the county sends `update` again.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { UpdateChunkHeader } from '../../core/contracts/update-chunk.js';
import { GatewayError } from '../../core/kernel/errors.js';
import { FETCH_TIMEOUT_MS } from './fetch.js';
import type { AskTiming, ChunkRequests } from './chunk-requests.js';
import type { BundleSource, FileWant } from './source.js';

/** ~1.3 s on a 100 kbit/s downlink: an answer never holds the link long. */
export const CHUNK_BYTES = 16 * 1024;
/** As the HTTP fetch: 30 s of silence, 4 tries. */
export const MQTT_TIMING: AskTiming = { silenceMs: FETCH_TIMEOUT_MS, tries: 4 };

const mismatch = (message: string) => new GatewayError('UPDATE_FILE_MISMATCH', message, { retryable: false });

export function mqttSource(requests: ChunkRequests, version: string, timing: AskTiming = MQTT_TIMING): BundleSource {
  /** Asks for `path` piece by piece from offset 0; `first` sees the first header (the file's size) before any byte. */
  async function pull(
    path: string,
    first: (h: UpdateChunkHeader) => void,
    bytes: (data: Buffer) => Promise<void> | void,
  ): Promise<UpdateChunkHeader> {
    let at = 0;
    let head: UpdateChunkHeader | null = null;
    do {
      const { header, data } = await requests.ask({ v: 1, version, path, o: at, len: CHUNK_BYTES }, timing);
      if (!head) first((head = header));
      else if (header.size !== head.size)
        throw mismatch(`${path}: the server's file changed size during the transfer (${head.size} -> ${header.size})`);
      await bytes(data);
      at += data.length;
    } while (at < head.size!);
    return head;
  }

  return {
    name: 'mqtt',
    parallel: 1,
    async get(path, max) {
      const parts: Buffer[] = [];
      const head = await pull(
        path,
        (h) => {
          if (h.size! > max)
            throw new GatewayError('UPDATE_UNREACHABLE', `${path}: ${h.size} bytes, over ${max}`, { retryable: false });
        },
        (data) => void parts.push(data),
      );
      const all = Buffer.concat(parts);
      // manifest.json and manifest.sig have no manifest entry: the server's own sha256 guards against a torn transfer.
      if (head.sha256 !== undefined && createHash('sha256').update(all).digest('hex') !== head.sha256)
        throw mismatch(`${path}: its sha256 is not the one the server named`);
      return all;
    },
    async toFile(path: string, file: string, want: FileWant) {
      const fh = await open(file, 'w', 0o600);
      const hash = createHash('sha256');
      try {
        await pull(
          path,
          (h) => {
            if (h.size !== want.size)
              throw mismatch(`${path}: the server's is ${h.size} bytes, the manifest says ${want.size}`);
          },
          async (data) => {
            hash.update(data);
            await fh.write(data);
          },
        );
        if (hash.digest('hex') !== want.sha256) throw mismatch(`${path}: its sha256 is not the manifest's`);
        await fh.sync();
      } finally {
        await fh.close();
      }
    },
  };
}
