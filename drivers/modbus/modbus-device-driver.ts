/**
 * One Modbus device (a unit on a bus): polls its inputs on its own schedule through the
 * shared bus, turns samples into events by role, drives its outputs. A unit that stops
 * answering is reported offline, then re-probed with backoff so it takes little bus time
 * from the others; the first answer after that reports it online again.
 */
import { emitLogged } from '../emit-logged.js';
import type { EventInput } from '../../core/contracts/event.js';
import type { Driver, DriverContext, DriverDescription, OutputCommand } from '../../core/contracts/driver.js';
import type { ModbusDeviceConfig } from '../../config/schema/devices.js';
import type { ModbusProfile } from '../../config/schema/profile.js';
import { Backoff } from '../../core/kernel/backoff.js';
import { InputTracker } from '../input-roles.js';
import { customRequest, type ModbusBus, type ModbusClient } from './modbus-bus.js';
import { planOutput, type WriteOp } from './output-plan.js';
import { planReads, probeRead, type ReadBlock } from './read-plan.js';
import { decodeRegisters } from './register-codec.js';
import { driverStopped } from '../stopped.js';
import { foreignCode, failure } from '../../core/kernel/errors.js';

export interface ModbusDeps {
  bus: ModbusBus;
  profile: ModbusProfile;
}

const PROBE_MIN_MS = 1000;
const PROBE_MAX_MS = 30_000;

export class ModbusDeviceDriver implements Driver {
  private readonly cfg: ModbusDeviceConfig;
  private readonly blocks: ReadBlock[];
  private readonly trackers = new Map<string, InputTracker>();
  private readonly probeBackoff = new Backoff(PROBE_MIN_MS, PROBE_MAX_MS, 0.2);
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private online: boolean | null = null;
  private failures = 0;
  private errors = 0;
  private polls = 0;
  private lastSeenMs: number | null = null;
  private lastError: string | null = null;
  private readonly pendingOffs = new Map<string, { timer: NodeJS.Timeout; op: WriteOp }>();
  private stopping: Promise<void> | null = null;
  /** Writes in flight (settled copies: stop() waits for them, never fails on them). */
  private readonly writing = new Set<Promise<void>>();
  /** The poll on the bus right now: stop() waits for it, so what it read is still reported. */
  private polling: Promise<void> | null = null;

  constructor(
    private readonly ctx: DriverContext<ModbusDeviceConfig>,
    private readonly deps: ModbusDeps,
  ) {
    this.cfg = ctx.config;
    const names = Object.keys(this.cfg.inputs);
    const probe = names.length === 0 ? probeRead(deps.profile) : null;
    this.blocks = probe ? [probe] : planReads(deps.profile, names);
    for (const [name, role] of Object.entries(this.cfg.inputs)) {
      this.trackers.set(
        name,
        new InputTracker(this.cfg.id, name, role, { device: this.cfg.id, unitId: this.cfg.unitId }),
      );
    }
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.running || this.stopping) return;
    this.running = true;
    signal.addEventListener('abort', () => void this.stop(), { once: true });
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      const poll = this.pollOnce().finally(() => {
        if (this.polling === poll) this.polling = null;
      });
      this.polling = poll;
    }, delayMs);
  }

  /** Reads every block once, then schedules the next poll from this one's start (no drift). */
  private async pollOnce(): Promise<void> {
    const started = this.ctx.clock.monoMs();
    this.polls += 1;
    try {
      const samples = new Map<string, number | boolean>();
      for (const block of this.blocks) {
        const values = await this.deps.bus.request(this.cfg.unitId, (client) => readBlock(client, block));
        for (const { name, point, offset } of block.points) {
          samples.set(
            name,
            block.table === 'coil' || block.table === 'discrete'
              ? Boolean(values[offset])
              : decodeRegisters(point, values.slice(offset, offset + 2) as number[]),
          );
        }
      }
      this.answered();
      const now = this.ctx.clock.monoMs();
      for (const [name, value] of samples) {
        for (const ev of this.trackers.get(name)!.sample(value, now)) this.emit(ev);
      }
    } catch (err) {
      if (!this.running) return; // e.g. BUS_DOWN because the agent stopped the bus: not the unit's fault
      this.failed(err as Error);
    }
    if (!this.running) return;
    const interval = this.online === false ? this.probeBackoff.next() : this.cfg.pollMs;
    this.schedule(Math.max(0, started + interval - this.ctx.clock.monoMs()));
  }

  private answered(): void {
    this.lastSeenMs = this.ctx.clock.now();
    this.failures = 0;
    this.probeBackoff.reset();
    if (this.online !== true) {
      const wasOffline = this.online === false;
      this.online = true;
      if (wasOffline)
        this.emit({
          deviceId: this.cfg.id,
          type: 'device.online',
          priority: 'high',
          data: { unitId: this.cfg.unitId, bus: this.deps.bus.id },
        });
    }
  }

  private failed(err: Error): void {
    this.errors += 1;
    this.failures += 1;
    this.lastError = err.message;
    if (this.online !== false && this.failures >= this.cfg.offlineAfter) {
      this.online = false;
      this.ctx.logger.warn(failure('BUS_ERROR', err, { unitId: this.cfg.unitId }), 'modbus device offline');
      this.emit({
        deviceId: this.cfg.id,
        type: 'device.offline',
        priority: 'high',
        data: { unitId: this.cfg.unitId, bus: this.deps.bus.id, error: err.message, code: foreignCode(err) ?? null },
      });
    }
  }

  private emit(ev: EventInput): void {
    emitLogged(this.ctx, ev);
  }

  write(cmd: OutputCommand): Promise<void> {
    if (this.stopping) return Promise.reject(driverStopped(this.cfg.id)); // its pulses are being ended; nothing new goes out
    const run = this.drive(cmd);
    // stop() waits for writes in flight: a pulse whose "on" is on the wire when stop() starts
    // has no pending "off" yet, and would be left on (a siren sounding on after a restart).
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.writing.add(settled);
    void settled.then(() => this.writing.delete(settled));
    return run;
  }

  private async drive(cmd: OutputCommand): Promise<void> {
    const plan = planOutput(this.deps.profile, cmd);
    const pending = this.pendingOffs.get(cmd.output);
    if (pending) {
      clearTimeout(pending.timer);
      this.pendingOffs.delete(cmd.output);
    }
    if (plan.kind === 'write') return this.send(plan.op);
    await this.send(plan.on);
    const timer = setTimeout(() => {
      this.pendingOffs.delete(cmd.output);
      this.send(plan.off).catch((err: Error) =>
        this.ctx.logger.error(failure('OUTPUT_FAILED', err, { output: cmd.output }), 'pulse could not be ended'),
      );
    }, plan.durationMs);
    this.pendingOffs.set(cmd.output, { timer, op: plan.off });
  }

  private send(op: WriteOp): Promise<void> {
    return this.deps.bus.request(this.cfg.unitId, async (client) => {
      if (op.fc === 5 && (op.value === 0xff00 || op.value === 0))
        await client.writeCoil(op.address, op.value === 0xff00);
      else if (op.fc === 5)
        await customRequest(client, this.cfg.unitId, 5, [
          op.address >> 8,
          op.address & 0xff,
          op.value >> 8,
          op.value & 0xff,
        ]);
      else await client.writeRegister(op.address, op.value);
    });
  }

  /** Idempotent: every caller (the abort signal, the agent) waits for the same shutdown. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await Promise.all(this.writing); // a pulse started just now gets its pending "off" first
    // A pulse the gateway was timing must not be left on (a siren sounding forever): the offs
    // queue on the bus behind the poll in flight, whose readings (a press) are still reported.
    const offs = [...this.pendingOffs.values()];
    this.pendingOffs.clear();
    const sends = offs.map(({ timer, op }) => {
      clearTimeout(timer);
      return this.send(op).catch((err: Error) =>
        this.ctx.logger.error(
          failure('OUTPUT_FAILED', err, { address: op.address }),
          'pulse could not be ended at stop',
        ),
      );
    });
    await Promise.all([this.polling, ...sends]);
  }

  describe(): DriverDescription {
    return {
      deviceIds: [this.cfg.id, ...[...this.trackers.values()].map((t) => t.eventDeviceId)],
      driver: 'modbus',
      transport: `${this.deps.bus.describeTransport} unit ${this.cfg.unitId}`,
      online: this.running && this.online === true,
      lastSeenMs: this.lastSeenMs,
      errors: this.errors,
      downReason:
        this.running && this.online === true
          ? null
          : !this.running
            ? 'stopped'
            : this.online === false
              ? (this.lastError ?? 'not answering')
              : 'not answered yet',
      detail: { profile: this.deps.profile.id, polls: this.polls, pollMs: this.cfg.pollMs, lastError: this.lastError },
    };
  }
}

async function readBlock(client: ModbusClient, b: ReadBlock): Promise<(number | boolean)[]> {
  switch (b.table) {
    case 'coil':
      return (await client.readCoils(b.address, b.quantity)).data.slice(0, b.quantity); // padded to a byte
    case 'discrete':
      return (await client.readDiscreteInputs(b.address, b.quantity)).data.slice(0, b.quantity);
    case 'holding':
      return (await client.readHoldingRegisters(b.address, b.quantity)).data;
    case 'input':
      return (await client.readInputRegisters(b.address, b.quantity)).data;
  }
}
