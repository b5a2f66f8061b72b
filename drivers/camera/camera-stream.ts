/**
 * What a camera's transport (a multipart event stream for ISAPI/CGI, an ONVIF PullPoint
 * subscription) needs of the driver, and what the driver needs of it. The driver
 * (camera-driver.ts) owns the lifecycle, up/lost, the idle timer, describe and the picture
 * gate; a transport only opens its connection and says what it saw.
 */
import type { DriverContext } from '../../core/contracts/driver.js';
import type { CameraDeviceConfig } from '../../config/schema/devices.js';
import type { CameraProfile } from '../../config/schema/profile.js';
import type { ErrorCode } from '../../core/kernel/errors.js';
import type { Decoded } from './camera-event.js';
import type { CameraHttp } from './camera-http.js';

export type DownReason = 'auth' | 'silent' | 'closed' | 'refused' | 'not-a-stream' | 'error';

export interface StreamHost {
  readonly ctx: DriverContext<CameraDeviceConfig>;
  readonly profile: CameraProfile;
  readonly http: CameraHttp;
  /** Aborted when the driver stops. */
  readonly stopped: AbortSignal;
  readonly idleMs: number;
  /** The camera answered (a part, a pull): up on the first, and the idle timer starts again. */
  alive(): void;
  /** One decoded report: counted, mapped by the profile and emitted. */
  report(decoded: Decoded): void;
  problem(kind: 'oversize' | 'malformed', detail: string): void;
  /** The connection is gone or could not be made: offline once with the reason, then the reconnect loop. */
  lost(reason: DownReason, code: ErrorCode, err: unknown): void;
  /** A refused password is behind us (the connection is accepted). */
  accepted(): void;
}

export interface CameraStream {
  /** One try at connecting; reports what follows through the host (never throws). */
  open(): Promise<void>;
  /** Drops the connection at once (lost, stopped). */
  close(): void;
  /** On stop: what the camera should be told (an ONVIF unsubscribe), bounded in time. */
  stop?(): Promise<void>;
  /** Counters for describe(). */
  detail(): Record<string, unknown>;
  /** The picture URL when the profile names none (ONVIF GetSnapshotUri). */
  snapshotPath?(channel: number, signal: AbortSignal): Promise<{ path: string; port?: number }>;
}
