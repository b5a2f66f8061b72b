/**
 * Where the update stager (stager.ts) gets a release bundle's bytes: over HTTP(S) from a URL the
 * county named (fetch.ts), or pulled over the broker from the county's update server
 * (mqtt-source.ts). The stager decides what to fetch and where it goes; a source only moves
 * bytes, and checks each file's size and sha256 against the manifest as it arrives.
 */
import { fetchToFile, getBounded, under, withRetry } from './fetch.js';

export interface FileWant {
  sha256: string;
  size: number;
}

export interface BundleSource {
  /** What the county and the events are told of it (the URL, or "mqtt"). */
  readonly name: string;
  /** Files fetched at once. */
  readonly parallel: number;
  /** A small file (manifest.json, manifest.sig) as bytes, refused past `max`; retried as the source sees fit. */
  get(path: string, max: number): Promise<Buffer>;
  /** Writes `path` of the bundle into `file` (fsynced) with its size and sha256 checked; retried as the source sees fit. */
  toFile(path: string, file: string, want: FileWant): Promise<void>;
}

/** Files fetched at once over HTTP: enough to hide latency, few enough to leave the uplink room. */
const HTTP_PARALLEL = 3;

export function httpSource(url: string): BundleSource {
  return {
    name: url,
    parallel: HTTP_PARALLEL,
    get: (path, max) => withRetry(() => getBounded(under(url, path), max), 2),
    toFile: (path, file, want) => withRetry(() => fetchToFile(under(url, path), file, want)),
  };
}
