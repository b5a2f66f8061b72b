/**
 * ONVIF PullPoint: GetSystemDateAndTime (unsigned) for the camera's clock, then
 * CreatePullPointSubscription, then PullMessages in a loop (a long poll: the camera answers
 * when it has messages or at the timeout), Renew when four fifths of the subscription have
 * passed, Unsubscribe on stop (best effort, bounded). Every answer, even an empty one, counts
 * as the camera alive. A refused signature is re-tried once after the camera's clock is read
 * again (its clock may have jumped); refused again, it is a refused password (the long auth
 * backoff). A renew or pull the camera refuses otherwise (the subscription expired early)
 * subscribes again. The subscription address may be another path or port; the host is always
 * the configured one (a camera reports its address as it sees itself: behind NAT, or 0.0.0.0).
 */
import { foreignCode, GatewayError } from '../../core/kernel/errors.js';
import type { CameraStream, StreamHost } from './camera-stream.js';
import { decodePull } from './onvif-messages.js';
import { NS, OnvifSoap, textOf, type SoapTarget, type Xml } from './onvif-soap.js';

interface Subscription {
  target: SoapTarget;
  /** Monotonic ms at which to renew. */
  renewAt: number;
}

/** Time for an Unsubscribe at stop: the agent does not wait longer on a camera that went away. */
const FAREWELL_MS = 2000;

export class PullPointStream implements CameraStream {
  private readonly soap: OnvifSoap;
  private session: AbortController | null = null;
  private sub: Subscription | null = null;
  private snapshotUri: Promise<SoapTarget> | null = null;
  /** The camera's clock was read and no signed call has passed since. */
  private clockFresh = false;
  private readonly rules = new Map<string, StreamHost['profile']['events'][string]>();
  private readonly counts = { pulls: 0, renews: 0, subscribes: 0, clockReads: 0, faults: 0 };

  constructor(
    private readonly host: StreamHost,
    password: string,
  ) {
    const cfg = host.ctx.config;
    this.soap = new OnvifSoap(host.http, { user: cfg.user, password }, host.profile.defaults.maxPartBytes, () =>
      host.ctx.clock.now(),
    );
    for (const [code, rule] of Object.entries(host.profile.events)) this.rules.set(code.toLowerCase(), rule);
  }

  private get onvif() {
    return this.host.profile.onvif;
  }

  /** Calls short of a pull: within the headers timeout the driver gives any request. */
  private get callMs(): number {
    return Math.min(10_000, this.host.idleMs);
  }

  async open(): Promise<void> {
    const ac = new AbortController();
    this.session = ac;
    const signal = AbortSignal.any([ac.signal, this.host.stopped]);
    try {
      await this.readClock(signal);
      await this.signed(() => this.subscribe(signal), signal);
      this.host.accepted();
      await this.pullLoop(signal);
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof GatewayError && err.code === 'CAMERA_PART_TOO_LARGE')
        this.host.problem('oversize', err.message);
      if (err instanceof GatewayError && err.code === 'CAMERA_STREAM_MALFORMED')
        this.host.problem('malformed', err.message);
      const auth = err instanceof GatewayError && err.code === 'CAMERA_AUTH_REFUSED';
      const reason = auth ? 'auth' : foreignCode(err) === 'ECONNREFUSED' ? 'refused' : 'error';
      this.host.lost(reason, auth ? 'CAMERA_AUTH_REFUSED' : 'CAMERA_STREAM_LOST', err);
    }
  }

  private async readClock(signal: AbortSignal): Promise<void> {
    this.counts.clockReads += 1;
    await this.soap.readClock({ path: this.onvif.devicePath }, signal, this.callMs);
    this.clockFresh = true;
  }

  /**
   * A signed call; a WS-Security refusal reads the camera's clock again and tries once more,
   * unless no signed call has passed since the clock was read (at connect): then the clock is
   * right and the password is not, and another try would only spend one more of the camera's
   * failed logins before it locks the account.
   */
  private async signed<T>(fn: () => Promise<T>, signal: AbortSignal): Promise<T> {
    try {
      const answer = await fn();
      this.clockFresh = false;
      return answer;
    } catch (err) {
      if (!(err instanceof GatewayError && err.detail.fault === 'auth') || this.clockFresh) throw err;
      await this.readClock(signal);
      const answer = await fn();
      this.clockFresh = false;
      return answer;
    }
  }

  private async subscribe(signal: AbortSignal): Promise<void> {
    const term = `PT${this.onvif.subscriptionSec}S`;
    const body = await this.soap.call({
      target: { path: this.onvif.eventsPath },
      action: `${NS.events}/EventPortType/CreatePullPointSubscriptionRequest`,
      body: `<CreatePullPointSubscription xmlns="${NS.events}"><InitialTerminationTime>${term}</InitialTerminationTime></CreatePullPointSubscription>`,
      signal,
      timeoutMs: this.callMs,
    });
    const res = (body.CreatePullPointSubscriptionResponse ?? {}) as Xml;
    const address = textOf((res.SubscriptionReference as Xml | undefined)?.Address);
    this.counts.subscribes += 1;
    this.sub = { target: this.targetOf(address), renewAt: 0 };
    this.scheduleRenew(res);
  }

  /** The subscription's path and port from its address; the host stays ours. */
  private targetOf(address: string | null): SoapTarget {
    try {
      const url = new URL(address ?? '');
      return { path: `${url.pathname}${url.search}`, ...(url.port ? { port: Number(url.port) } : {}) };
    } catch {
      return { path: this.onvif.eventsPath };
    }
  }

  /** Renew at four fifths of the term the camera granted (its CurrentTime to its TerminationTime: clock-offset safe). */
  private scheduleRenew(res: Xml): void {
    const granted = Date.parse(textOf(res.TerminationTime) ?? '') - Date.parse(textOf(res.CurrentTime) ?? '');
    const asked = this.onvif.subscriptionSec * 1000;
    const term = Number.isFinite(granted) && granted > 0 ? Math.min(granted, asked) : asked;
    if (this.sub) this.sub.renewAt = this.host.ctx.clock.monoMs() + term * 0.8;
  }

  private async pullLoop(signal: AbortSignal): Promise<void> {
    const pullMs = Math.min(this.onvif.pullTimeoutSec * 1000, Math.floor(this.host.idleMs / 2));
    const timeout = `PT${(pullMs / 1000).toFixed(3).replace(/\.?0+$/, '')}S`;
    while (!signal.aborted) {
      if (this.host.ctx.clock.monoMs() >= this.sub!.renewAt) await this.renew(signal);
      let body: Xml;
      try {
        const pull = () =>
          this.soap.call({
            target: this.sub!.target,
            action: `${NS.events}/PullPointSubscription/PullMessagesRequest`,
            body: `<PullMessages xmlns="${NS.events}"><Timeout>${timeout}</Timeout><MessageLimit>${this.onvif.messageLimit}</MessageLimit></PullMessages>`,
            signal,
            // Longer than the idle time: a pull that never answers is reported `silent` by the driver's timer.
            timeoutMs: this.host.idleMs + 1000,
          });
        body = await this.signed(pull, signal);
      } catch (err) {
        if (!(err instanceof GatewayError && err.detail.fault === 'other')) throw err;
        this.counts.faults += 1;
        await this.signed(() => this.subscribe(signal), signal); // the pull point is gone: a new one
        continue;
      }
      this.counts.pulls += 1;
      this.host.alive();
      for (const d of decodePull(body, this.rules).decoded) this.host.report(d);
    }
  }

  private async renew(signal: AbortSignal): Promise<void> {
    try {
      const body = await this.signed(
        () =>
          this.soap.call({
            target: this.sub!.target,
            action: `${NS.wsnt}/SubscriptionManager/RenewRequest`,
            body: `<Renew xmlns="${NS.wsnt}"><TerminationTime>PT${this.onvif.subscriptionSec}S</TerminationTime></Renew>`,
            signal,
            timeoutMs: this.callMs,
          }),
        signal,
      );
      this.counts.renews += 1;
      this.scheduleRenew((body.RenewResponse ?? {}) as Xml);
    } catch (err) {
      if (!(err instanceof GatewayError && err.detail.fault === 'other')) throw err;
      this.counts.faults += 1; // expired early, or the camera forgot it: subscribe again
      await this.signed(() => this.subscribe(signal), signal);
    }
  }

  close(): void {
    this.session?.abort();
    this.session = null;
    const old = this.sub;
    this.sub = null;
    // A camera holds few subscriptions and cannot list them: the dropped one is let go, best effort.
    if (old && !this.host.stopped.aborted) void this.unsubscribe(old).catch(() => undefined);
  }

  async stop(): Promise<void> {
    const old = this.sub;
    this.sub = null;
    if (old) await this.unsubscribe(old).catch(() => undefined);
  }

  private unsubscribe(sub: Subscription): Promise<Xml> {
    return this.soap.call({
      target: sub.target,
      action: `${NS.wsnt}/SubscriptionManager/UnsubscribeRequest`,
      body: `<Unsubscribe xmlns="${NS.wsnt}"/>`,
      signal: AbortSignal.timeout(FAREWELL_MS),
      timeoutMs: FAREWELL_MS,
    });
  }

  /** GetProfiles, the smallest picture's profile, GetSnapshotUri: asked once, then kept. */
  snapshotPath(_channel: number, signal: AbortSignal): Promise<SoapTarget> {
    this.snapshotUri ??= this.askSnapshotUri(signal).catch((err: unknown) => {
      this.snapshotUri = null; // asked again next time
      throw err;
    });
    return this.snapshotUri;
  }

  private async askSnapshotUri(signal: AbortSignal): Promise<SoapTarget> {
    const call = (body: string, action: string) =>
      this.signed(
        () => this.soap.call({ target: { path: this.onvif.mediaPath }, action, body, signal, timeoutMs: this.callMs }),
        signal,
      );
    const profiles = (await call(`<GetProfiles xmlns="${NS.media}"/>`, `${NS.media}/GetProfiles`)) as Xml;
    const list = ((profiles.GetProfilesResponse as Xml | undefined)?.Profiles ?? []) as Xml[];
    const area = (p: Xml) => {
      const r = ((p.VideoEncoderConfiguration as Xml | undefined)?.Resolution ?? {}) as Xml;
      return Number(textOf(r.Width) ?? Infinity) * Number(textOf(r.Height) ?? 1);
    };
    const smallest = [...list].sort((a, b) => area(a) - area(b))[0];
    const token = smallest?.['@token'];
    if (typeof token !== 'string')
      throw new GatewayError('CAMERA_SNAPSHOT_FAILED', 'the camera lists no media profile');
    const body = `<GetSnapshotUri xmlns="${NS.media}"><ProfileToken>${token.replace(/[<>&]/g, '')}</ProfileToken></GetSnapshotUri>`;
    const answer = await call(body, `${NS.media}/GetSnapshotUri`);
    const uri = textOf(((answer.GetSnapshotUriResponse as Xml | undefined)?.MediaUri as Xml | undefined)?.Uri);
    try {
      const url = new URL(uri ?? '');
      // The picture may be served on another port (the web server's, not ONVIF's); the host stays ours.
      return { path: `${url.pathname}${url.search}`, ...(url.port ? { port: Number(url.port) } : {}) };
    } catch {
      throw new GatewayError('CAMERA_SNAPSHOT_FAILED', `the camera's snapshot URI is not a URL: ${uri ?? 'none'}`);
    }
  }

  detail(): Record<string, unknown> {
    return { onvif: { ...this.counts, clockOffsetMs: this.soap.offsetMs } };
  }
}
