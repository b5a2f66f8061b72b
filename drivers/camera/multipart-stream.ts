/**
 * Hikvision ISAPI alertStream and Dahua CGI eventManager attach: one long-lived multipart
 * stream of events and heartbeats. Any whole part counts as the camera alive; a stream that
 * ends, or is not multipart, is lost with its reason.
 */
import type { IncomingMessage } from 'node:http';
import { foreignCode, GatewayError } from '../../core/kernel/errors.js';
import type { Decoded } from './camera-event.js';
import { CameraEventMapper } from './camera-event-mapper.js';
import type { CameraStream, StreamHost } from './camera-stream.js';
import { decodeDahua } from './dahua-decode.js';
import { decodeHikvision } from './hikvision-decode.js';
import { boundaryOf, MultipartParser, type Part } from './multipart-parser.js';

export class MultipartStream implements CameraStream {
  private stream: { res: IncomingMessage; parser: MultipartParser } | null = null;
  private legacyPath = false;
  private readonly pulseCodes: Set<string>;

  constructor(private readonly host: StreamHost) {
    this.pulseCodes = CameraEventMapper.pulseCodes(host.profile);
  }

  /** The event stream's path for this brand. */
  private streamPath(): string {
    const profile = this.host.profile;
    if (profile.protocol === 'hikvision-isapi')
      return this.legacyPath ? '/Event/notification/alertStream' : '/ISAPI/Event/notification/alertStream';
    const codes = Object.keys(profile.events).join(',');
    return `/cgi-bin/eventManager.cgi?action=attach&codes=[${codes}]&heartbeat=${profile.defaults.heartbeatSec}`;
  }

  async open(): Promise<void> {
    const host = this.host;
    let res: IncomingMessage;
    try {
      res = await this.openStream();
    } catch (err) {
      if (host.stopped.aborted) return;
      const refused = err instanceof GatewayError && err.code === 'CAMERA_AUTH_REFUSED';
      const reason = refused ? 'auth' : foreignCode(err) === 'ECONNREFUSED' ? 'refused' : 'error';
      return host.lost(reason, refused ? 'CAMERA_AUTH_REFUSED' : 'CAMERA_STREAM_LOST', err);
    }
    const boundary = boundaryOf(res.headers['content-type']);
    if (host.stopped.aborted) return void res.destroy();
    if (!boundary) {
      res.destroy();
      const what = `answered ${res.headers['content-type'] ?? 'no Content-Type'}, not a multipart stream`;
      return host.lost('not-a-stream', 'CAMERA_NOT_A_STREAM', new GatewayError('CAMERA_NOT_A_STREAM', what));
    }
    const limits = { maxPartBytes: host.profile.defaults.maxPartBytes, maxHeaderBytes: 8192 };
    const parser = new MultipartParser(
      boundary,
      limits,
      (part) => this.onPart(part),
      (kind, detail) => host.problem(kind, detail),
    );
    this.stream = { res, parser };
    host.accepted();
    res.on('data', (chunk: Buffer) => {
      if (this.stream?.res === res) parser.push(chunk);
    });
    const ended = (err?: Error) => {
      if (this.stream?.res !== res) return;
      host.lost(
        'closed',
        'CAMERA_STREAM_LOST',
        err ?? new GatewayError('CAMERA_STREAM_LOST', 'the camera ended the stream'),
      );
    };
    res.once('end', () => ended());
    res.once('error', ended);
    res.once('close', () => ended());
  }

  /** Older Hikvision firmware answers 404 under /ISAPI: the same stream without it (as pyHik falls back). */
  private async openStream(): Promise<IncomingMessage> {
    const { http, stopped, profile } = this.host;
    try {
      return await http.get(this.streamPath(), stopped);
    } catch (err) {
      const notFound = err instanceof GatewayError && err.detail.status === 404;
      if (!notFound || profile.protocol !== 'hikvision-isapi' || this.legacyPath) throw err;
      this.legacyPath = true;
      return http.get(this.streamPath(), stopped);
    }
  }

  private onPart(part: Part): void {
    this.host.alive(); // up only once a whole part came: a slow-drip camera never is
    this.host.report(this.decode(part));
  }

  private decode(part: Part): Decoded {
    const type = part.headers['content-type'] ?? '';
    if (/^image\//i.test(type)) return { kind: 'ignored', why: 'picture' };
    return this.host.profile.protocol === 'hikvision-isapi'
      ? decodeHikvision(type, part.body, this.pulseCodes)
      : decodeDahua(part.body, this.pulseCodes);
  }

  close(): void {
    const stream = this.stream;
    this.stream = null;
    stream?.res.destroy();
  }

  detail(): Record<string, unknown> {
    return { buffered: this.stream?.parser.buffered ?? 0 };
  }
}
