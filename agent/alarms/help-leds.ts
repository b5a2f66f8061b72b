/**
 * The "help is coming" LEDs: lit when the county acknowledges an alert a wired button raised,
 * out again by the rule in the config (alarms.helpLed): `offAfterSec` after the ack, at the
 * county's `clear` for that alert, or when a button still held at the ack (a latching one) is
 * let go on site. Before this the LED stayed lit until a restart, and a resident could not
 * tell a new press's answer from last week's.
 *
 * Each lit LED is a record in alarms.json, so a restart keeps it and its deadline. The timer
 * runs on the monotonic clock; the wall-clock deadline is read back only after a restart and
 * clamped to the LED's full time, as pulses are (alarm-state-saver.ts): a clock set back
 * meanwhile cannot keep an LED lit for days.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../core/kernel/clock.js';
import { failure } from '../../core/kernel/errors.js';
import type { OutputCommand } from '../../core/contracts/driver.js';
import { isStorageRefusal } from '../../core/contracts/outbox-store.js';
import type { EventInput } from '../../core/contracts/event.js';
import type { HelpLedRule } from '../../config/schema/gateway-config.js';
import type { StoredAlert, StoredLed } from './alarm-state.js';
import type { AlarmStateSaver } from './alarm-state-saver.js';
import { buttonLed } from './button-led.js';

export interface HelpLedPorts {
  rule: HelpLedRule;
  clock: Clock;
  logger: Logger;
  write(cmd: OutputCommand): Promise<void>;
  /** `alert.led_off` to the county: it lit the LED with its ack and learns when it went out. */
  emit(e: EventInput): Promise<unknown>;
}

/** Why an LED went out (logged, and in its `alert.led_off` event). */
export type LedOff = 'time' | 'clear' | 'reset';

/** A failed "off" is tried again this much later (a board that does not answer is not asked every second). */
const RETRY_MS = 30_000;

export class HelpLeds {
  /** Record -> monotonic ms it goes out (Infinity: no timer). */
  private readonly ends = new Map<StoredLed, number>();
  /** Buttons (event device ids) down now, from their alarm.pressed and alarm.released. */
  private readonly held = new Set<string>();
  /** The alarm state (alarms.json) once started: its `leds` are the LEDs lit. */
  private saver: Pick<AlarmStateSaver, 'data' | 'soon'> | null = null;

  constructor(private readonly p: HelpLedPorts) {}

  /** The LEDs lit before a restart, timed again from the saved state. */
  attach(saver: Pick<AlarmStateSaver, 'data' | 'soon'>): void {
    this.saver = saver;
    const now = this.p.clock.now();
    const mono = this.p.clock.monoMs();
    for (const led of saver.data.leds)
      this.ends.set(led, led.offAtMs === null ? Infinity : mono + Math.min(led.offAtMs - now, led.forMs ?? Infinity));
  }

  private get leds(): StoredLed[] {
    return this.saver?.data.leds ?? [];
  }

  /** A button's press or release: which are down now, and a latching button reset on site. */
  input(type: 'alarm.pressed' | 'alarm.released', button: string): void {
    if (type === 'alarm.pressed') {
      this.held.add(button);
      return;
    }
    this.held.delete(button);
    for (const led of this.leds.filter((l) => l.atReset && l.button === button)) void this.off(led, 'reset');
  }

  /** The county acknowledged `alert`: lights its button's LED, if it has one. Resolves with `device.output` lit, or null. */
  async light(alert: StoredAlert): Promise<string | null> {
    const cause = alert.causes.find((c) => buttonLed(c) !== null);
    const pressed = cause ? buttonLed(cause) : null;
    if (!cause || !pressed) return null;
    const { rule, clock, logger } = this.p;
    try {
      await this.p.write({ deviceId: pressed.device, output: pressed.led, action: 'on' });
    } catch (err) {
      logger.error(failure('OUTPUT_FAILED', err, { alertId: alert.alertId }), 'confirmation LED could not be lit');
      return null;
    }
    const forMs = rule.offAfterSec > 0 ? rule.offAfterSec * 1000 : null;
    const led: StoredLed = {
      alertId: alert.alertId,
      device: pressed.device,
      output: pressed.led,
      button: cause.deviceId,
      offAtMs: forMs === null ? null : clock.now() + forMs,
      forMs,
      atReset: rule.offAtReset && this.held.has(cause.deviceId),
    };
    if (this.saver) {
      this.saver.data.leds.push(led);
      this.ends.set(led, forMs === null ? Infinity : clock.monoMs() + forMs);
      this.saver.soon();
    }
    return `${led.device}.${led.output}`;
  }

  /** The county's `clear`: the alert's LED goes out now. Resolves with `device.output` put out, or null if none was lit. */
  async clear(alertId: string): Promise<string | null> {
    const led = this.leds.find((l) => l.alertId === alertId);
    if (!led) return null;
    await this.off(led, 'clear', true);
    return `${led.device}.${led.output}`;
  }

  /** LEDs whose time is up go out (every second, with the SMS checks). */
  expire(): void {
    const mono = this.p.clock.monoMs();
    for (const led of this.leds) if ((this.ends.get(led) ?? -Infinity) <= mono) void this.off(led, 'time');
  }

  /** Once the drivers are up: LEDs still due lit again (a board that lost power forgot them), the others out. */
  resume(): void {
    const mono = this.p.clock.monoMs();
    for (const led of this.leds) {
      if ((this.ends.get(led) ?? -Infinity) <= mono) void this.off(led, 'time');
      else
        void this.p
          .write({ deviceId: led.device, output: led.output, action: 'on' })
          .catch((err: Error) =>
            this.p.logger.error(
              failure('OUTPUT_FAILED', err, { alertId: led.alertId }),
              'confirmation LED could not be lit again',
            ),
          );
    }
  }

  /**
   * Puts an LED out and forgets it, unless another alert's LED on the same output is still due
   * (the same button acknowledged twice: the later ack keeps it lit). A failed write is tried
   * again later; `rethrow` lets the `clear` command's reply say it failed.
   */
  private async off(led: StoredLed, why: LedOff, rethrow = false): Promise<void> {
    const mono = this.p.clock.monoMs();
    const state = this.saver?.data;
    if (!state || !state.leds.includes(led)) return;
    const others = state.leds.some((l) => l !== led && l.device === led.device && l.output === led.output);
    if (!others) {
      this.ends.set(led, mono + RETRY_MS); // not asked again while this write is on its way
      try {
        await this.p.write({ deviceId: led.device, output: led.output, action: 'off' });
      } catch (err) {
        this.p.logger.error(
          failure('OUTPUT_FAILED', err, { alertId: led.alertId, why }),
          'confirmation LED could not be put out',
        );
        if (rethrow) throw err;
        return;
      }
    }
    state.leds = state.leds.filter((l) => l !== led);
    this.ends.delete(led);
    const lit = `${led.device}.${led.output}`;
    this.p.logger.info({ alertId: led.alertId, led: lit, why }, 'confirmation LED out');
    this.saver!.soon();
    await this.p
      .emit({
        deviceId: led.device,
        type: 'alert.led_off',
        priority: 'normal',
        data: { alertId: led.alertId, led: lit, why },
      })
      .catch((err: Error) => {
        // A full disk is counted and logged once a second by the agent (storage-failures.ts).
        if (!isStorageRefusal(err))
          this.p.logger.error(failure('STORAGE_FAILED', err, { alertId: led.alertId }), 'alert.led_off not stored');
      });
  }
}
