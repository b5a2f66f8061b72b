/**
 * Node built-ins that only some configs use, loaded at their first use rather than at import:
 * measured under the agent's V8 flags, node:zlib adds about 1 MB and node:tls about 0.9 MB to the
 * process (their JavaScript, and pages of the node binary they touch), of an agent meant to idle
 * near 60 MB. A gateway on the json wire to a plain mqtt:// broker needs neither.
 *
 * node:http goes through require for another reason: on Node 24 an ES module import of it reads
 * every export, its lazy WebSocket/CloseEvent/MessageEvent getters included, and so loads undici
 * (nodejs/node#59686): 12-15 MB under the agent's flags against 3.8 MB through require (measured
 * 2026-12-07; Node 20: 1.2 MB either way).
 */
import { createRequire } from 'node:module';
import type * as Http from 'node:http';
import type * as Tls from 'node:tls';
import type * as Zlib from 'node:zlib';

const require = createRequire(import.meta.url);

/** node:zlib (compressed wire batches, gzipped update manifests). */
export const zlib = (): typeof Zlib => require('node:zlib') as typeof Zlib;

/** node:tls (mqtts:// and ssl:// brokers, client certificates). */
export const tls = (): typeof Tls => require('node:tls') as typeof Tls;

/** node:http (cameras: event streams, snapshots, ONVIF). */
export const http = (): typeof Http => require('node:http') as typeof Http;
