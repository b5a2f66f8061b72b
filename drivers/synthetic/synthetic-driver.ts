/**
 * A synthetic device for the demo, tests and benchmarks: door, alarm-button and telemetry
 * events at configured rates, through the same driver contract the field drivers use.
 * Events are emitted on timers (Poisson-like spacing would hide nothing we measure).
 */
import type { Driver, DriverContext, DriverDescription, OutputCommand } from '../../core/contracts/driver.js';
import type { EventInput } from '../../core/contracts/event.js';
import { isReportedRefusal } from '../../core/contracts/outbox-store.js';
import { GatewayError, failure } from '../../core/kernel/errors.js';
import { driverStopped } from '../stopped.js';
import type { SyntheticDeviceConfig } from '../../config/schema/devices.js';

export class SyntheticDriver implements Driver {
  private timers: NodeJS.Timeout[] = [];
  private doorOpen = false;
  private counter = 0;
  private emitted = 0;
  private errors = 0;
  private lastSeenMs: number | null = null;
  private running = false;
  private stopped = false;

  constructor(private readonly ctx: DriverContext<SyntheticDeviceConfig>) {}

  async start(signal: AbortSignal): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    signal.addEventListener('abort', () => void this.stop(), { once: true });
    const { rates, telemetryBytes } = this.ctx.config;
    const pad = 'x'.repeat(telemetryBytes);
    // Shaped like a wired input's events (input-roles.ts), as the catalogue wants them.
    this.every(rates.doorPerSec, (deviceId) => {
      this.doorOpen = !this.doorOpen;
      return {
        deviceId,
        type: this.doorOpen ? 'door.opened' : 'door.closed',
        priority: 'high',
        data: { input: '1', active: this.doorOpen },
      };
    });
    this.every(rates.buttonPerSec, (deviceId) => ({
      deviceId,
      type: 'alarm.pressed',
      priority: 'critical',
      data: { input: '2', active: true },
    }));
    this.every(rates.telemetryPerSec, (deviceId) => ({
      deviceId,
      type: 'sensor.telemetry',
      priority: 'normal',
      data: { n: ++this.counter, tempC: 21.5, pad },
    }));
  }

  /** Rates above 1000/s fire several events per 1 ms tick. */
  private every(perSec: number, make: (deviceId: string) => EventInput): void {
    if (perSec <= 0) return;
    const intervalMs = Math.max(1, 1000 / perSec);
    const perTick = Math.max(1, Math.round(perSec / 1000));
    this.timers.push(
      setInterval(() => {
        for (let i = 0; i < perTick; i++) {
          const e = make(this.ctx.config.id);
          this.lastSeenMs = this.ctx.clock.now();
          this.ctx.emit(e).then(
            () => void (this.emitted += 1),
            (err: Error) => {
              this.errors += 1;
              if (!isReportedRefusal(err))
                this.ctx.logger.warn(failure('STORAGE_FAILED', err), 'synthetic event not stored');
            },
          );
        }
      }, intervalMs),
    );
  }

  /** Idempotent; nothing to wait for: its timers are cleared at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.running = false;
    for (const t of this.timers.splice(0)) clearInterval(t);
  }

  async write(command: OutputCommand): Promise<void> {
    if (this.stopped) throw driverStopped(this.ctx.config.id);
    throw new GatewayError('NO_OUTPUT', `synthetic device ${this.ctx.config.id} has no output "${command.output}"`);
  }

  describe(): DriverDescription {
    return {
      deviceIds: [this.ctx.config.id],
      driver: 'synthetic',
      transport: 'none',
      online: this.running,
      lastSeenMs: this.lastSeenMs,
      errors: this.errors,
      detail: { emitted: this.emitted },
    };
  }
}
