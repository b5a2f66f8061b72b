/**
 * What a flow may ask of the agent (`request` messages from the Node-RED child), checked
 * here: only outputs declared flow-writable, at a limited rate; alerts at a limited rate;
 * the status snapshot. Every refusal is a GatewayError with a listed code.
 */
import type { OutputCommand } from '../../core/contracts/driver.js';
import type {
  AlertRequestArgs,
  FlowAlert,
  FlowDevices,
  FlowOrigin,
  OutputRequestArgs,
  RequestKind,
  SnapshotRequestArgs,
  ToChild,
} from '../../core/contracts/nodered-ipc.js';
import { errorMessage, GatewayError, replyCode } from '../../core/kernel/errors.js';
import { eventTypeSchema, nameSchema } from '../../core/contracts/event.js';
import { TokenBucket } from '../uplink/token-bucket.js';

/** The narrow ports the flows reach the agent through. */
export interface FlowPorts {
  write(cmd: OutputCommand): Promise<void>;
  raiseAlert(a: FlowAlert): Promise<string>;
  status(): unknown;
  /**
   * A camera's picture: resolves once the agent checked the camera and the rate per camera, as
   * the picture is being taken; rejects when it refuses (unknown camera, limited, off). Either
   * way the request is recorded (media.requested, by: node-red); the flow then sees camera.picture.
   */
  snapshot?(camera: string, channel: number): Promise<void>;
}

export interface FlowRequestLimits {
  /** Output requests per second, and the burst allowed. */
  outputsPerSec: number;
  outputBurst: number;
  alertsPerMin: number;
  alertBurst: number;

  /** Status requests per second (each builds the agent's whole status report). */
  statusPerSec?: number;
}

export const DEFAULT_FLOW_LIMITS: FlowRequestLimits = {
  outputsPerSec: 2,
  outputBurst: 10,
  alertsPerMin: 6,
  alertBurst: 3,
};

/** Requests the flows may make per second, all kinds together, and how many may be in progress. */
const REQUESTS_PER_SEC = 50;
const MAX_IN_PROGRESS = 16;
const MAX_PULSE_MS = 10 * 60_000;
const MAX_MESSAGE = 500;

const invalid = (message: string) => new GatewayError('INVALID_ARGS', message);
/** Ids as the event envelope takes them (a flow's 50 MB string never gets further than this). */
const isName = (v: unknown): v is string => typeof v === 'string' && nameSchema.safeParse(v).success;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What FlowRequests needs; the supervisor's options name the same things, so it passes them as they are. */
export interface FlowRequestsOptions {
  gatewayId: string;
  /** device/output pairs a flow may drive. */
  flowWritable: Set<string>;
  ports: FlowPorts;
  limits?: FlowRequestLimits | undefined;
  /** The event device ids and their tags, for the editor's pickers (`devices`). */
  devices?: FlowDevices['devices'] | undefined;
  /** The rate limits' clock (default: performance.now, as TokenBucket's). */
  now?: (() => number) | undefined;
}

export class FlowRequests {
  private readonly outputs: TokenBucket;
  private readonly alerts: TokenBucket;
  private readonly statuses: TokenBucket;
  private readonly all: TokenBucket;
  private inProgress = 0;
  refused = 0;

  private readonly gatewayId: string;
  private readonly writable: Set<string>;
  private readonly ports: FlowPorts;
  /** The event device ids and their tags, for the editor's pickers (`devices`). */
  private readonly devices: FlowDevices['devices'];

  constructor(o: FlowRequestsOptions) {
    ({ gatewayId: this.gatewayId, flowWritable: this.writable, ports: this.ports } = o);
    this.devices = o.devices ?? [];
    const { limits = DEFAULT_FLOW_LIMITS, now } = o;
    this.outputs = new TokenBucket(limits.outputsPerSec, limits.outputBurst, now);
    this.alerts = new TokenBucket(limits.alertsPerMin / 60, limits.alertBurst, now);
    this.statuses = new TokenBucket(limits.statusPerSec ?? 5, limits.statusPerSec ?? 5, now);
    this.all = new TokenBucket(REQUESTS_PER_SEC, REQUESTS_PER_SEC, now);
  }

  /** Handles a request and sends its reply; a refusal is a reply too (the flow's node fails with its code). */
  answer(
    m: { id: number; kind: RequestKind | string; args: unknown },
    send: (reply: ToChild) => void,
    onRefused: (err: unknown) => void,
  ): void {
    this.handle(m.kind, m.args).then(
      (result) => send({ t: 'reply', id: m.id, ok: true, result: result ?? null }),
      (err: unknown) => {
        onRefused(err);
        send({ t: 'reply', id: m.id, ok: false, error: { code: replyCode(err), message: errorMessage(err) } });
      },
    );
  }
  async handle(kind: RequestKind | string, args: unknown): Promise<unknown> {
    // One budget for every request, before any work: a flow asking 10,000 times a second gets
    // refusals that cost nothing, and never more than a few requests are in progress at once.
    if (this.all.take() > 0 || this.inProgress >= MAX_IN_PROGRESS) {
      this.refused += 1;
      throw new GatewayError('RATE_LIMITED', 'too many requests from the flows', { retryable: true });
    }
    this.inProgress += 1;
    try {
      if (kind === 'output') return await this.output(args);
      if (kind === 'alert') return await this.alert(args);
      if (kind === 'status') {
        if (this.statuses.take() > 0)
          throw new GatewayError('RATE_LIMITED', 'flows ask for the status too often', { retryable: true });
        return this.ports.status();
      }
      if (kind === 'devices') return this.pickers();
      if (kind === 'snapshot') return this.snapshot(args);
      throw new GatewayError(
        'UNKNOWN_COMMAND',
        `a flow asked for "${String(kind)}" (known: output, alert, status, devices, snapshot)`,
      );
    } catch (err) {
      this.refused += 1;
      throw err;
    } finally {
      this.inProgress -= 1;
    }
  }

  private async output(args: unknown): Promise<{ ok: true }> {
    if (!isObj(args)) throw invalid('output: args must be an object');
    const { device, output, action, durationMs } = args as Partial<OutputRequestArgs>;
    if (!isName(device) || !isName(output))
      throw invalid('output: device and output must be names of 1-64 letters, digits, _ . -');
    if (action !== 'on' && action !== 'off' && action !== 'pulse')
      throw invalid(`output: action must be on, off or pulse (got ${JSON.stringify(action)})`);
    if (!this.writable.has(`${device}/${output}`))
      throw new GatewayError(
        'NOT_FLOW_WRITABLE',
        `${device}.${output} is not flow-writable (devices[id=${device}].outputs.${output}.flowWritable: true)`,
      );
    if (action === 'pulse' && !(Number.isInteger(durationMs) && durationMs! > 0 && durationMs! <= MAX_PULSE_MS))
      throw new GatewayError('INVALID_PULSE', `a pulse needs durationMs 1..${MAX_PULSE_MS}`);
    if (this.outputs.take() > 0)
      throw new GatewayError('RATE_LIMITED', 'flows drive outputs too often', { retryable: true });
    await this.ports.write({ deviceId: device, output, action, ...(action === 'pulse' ? { durationMs } : {}) });
    return { ok: true };
  }

  private async alert(args: unknown): Promise<{ alertId: string }> {
    if (!isObj(args)) throw invalid('alert: args must be an object');
    const { message, deviceId, priority = 'high', sms = 'fallback' } = args as Partial<AlertRequestArgs>;
    if (typeof message !== 'string' || message.trim() === '' || message.length > MAX_MESSAGE)
      throw invalid(`alert: message must be 1..${MAX_MESSAGE} characters`);
    if (deviceId !== undefined && !isName(deviceId))
      throw invalid('alert: deviceId must be a name of 1-64 letters, digits, _ . -');
    if (priority !== 'critical' && priority !== 'high') throw invalid('alert: priority must be critical or high');
    if (sms !== 'fallback' && sms !== 'always' && sms !== 'never')
      throw invalid('alert: sms must be fallback, always or never');
    if (this.alerts.take() > 0)
      throw new GatewayError('RATE_LIMITED', 'flows raise alerts too often', { retryable: true });
    const origin = originOf(args['origin']);
    const cause = causeOf(args['cause']);
    const alertId = await this.ports.raiseAlert({
      message,
      deviceId: deviceId ?? this.gatewayId,
      priority,
      sms,
      ...(origin ? { origin } : {}),
      ...(cause ? { cause } : {}),
    });
    return { alertId };
  }

  private async snapshot(args: unknown): Promise<{ asked: true; camera: string }> {
    if (!isObj(args)) throw invalid('snapshot: args must be an object');
    const { camera, channel = 1 } = args as Partial<SnapshotRequestArgs>;
    if (!isName(camera)) throw invalid('snapshot: camera must be a device id of 1-64 letters, digits, _ . -');
    if (!Number.isInteger(channel) || channel < 1 || channel > 256)
      throw invalid('snapshot: channel must be a whole number from 1 to 256');
    if (!this.ports.snapshot) throw new GatewayError('NO_CAMERA', 'this gateway takes no pictures');
    await this.ports.snapshot(camera, channel);
    return { asked: true, camera };
  }

  /** What the editor's pickers offer: the devices whose events flows see, and the outputs flows may drive. */
  private pickers(): FlowDevices {
    const outputs = [...this.writable].sort().map((w) => {
      const [device, output] = w.split('/') as [string, string];
      return { device, output };
    });
    return { devices: this.devices.map((d) => ({ id: d.id, tags: [...d.tags] })), outputs };
  }
}

const MAX_NAME = 200;
const isText = (v: unknown, max: number): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;
const optionalText = (v: unknown): boolean => v === undefined || v === '' || isText(v, MAX_NAME);

/** The flow and node an alert came from, or undefined when absent; malformed names are refused, not trimmed. */
function originOf(v: unknown): FlowOrigin | undefined {
  if (v === undefined) return undefined;
  if (!isObj(v) || !isText(v['flowId'], 64) || !isText(v['nodeId'], 64))
    throw invalid('alert: origin needs flowId and nodeId (ids of at most 64 characters)');
  if (!optionalText(v['flowName']) || !optionalText(v['nodeName']))
    throw invalid(`alert: origin names are at most ${MAX_NAME} characters`);
  const name = (n: unknown) => (typeof n === 'string' && n !== '' ? n : undefined);
  const [flowName, nodeName] = [name(v['flowName']), name(v['nodeName'])];
  return {
    flowId: v['flowId'],
    ...(flowName ? { flowName } : {}),
    nodeId: v['nodeId'],
    ...(nodeName ? { nodeName } : {}),
  };
}

/** The event that led to a flow's alert, as the flow saw it (ids only: the county finds the event by its id). */
function causeOf(v: unknown): AlertRequestArgs['cause'] {
  if (v === undefined) return undefined;
  if (!isObj(v) || !isText(v['id'], 64) || !isText(v['type'], 64) || !isName(v['deviceId']))
    throw invalid('alert: cause needs the event id, type and deviceId');
  // The county reads it as an event type: one a flow made up in another shape would not match its catalogue.
  if (!eventTypeSchema.safeParse(v['type']).success)
    throw invalid(
      `alert: cause.type must be an event type, dotted lower-case like door.opened (got ${JSON.stringify(v['type'])})`,
    );
  return { id: v['id'], type: v['type'], deviceId: v['deviceId'] };
}
