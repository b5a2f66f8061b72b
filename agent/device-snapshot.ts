/**
 * What `village-gateway devices` shows: each driver's own description and each bus's
 * counters, written beside the outbox every few seconds (tmp + rename; no fsync: it is a view,
 * and the next write replaces it). In the same turn, what `village-gateway status` shows
 * (status.json, see status-view.ts).
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { BusDescription, DriverDescription } from '../core/contracts/driver.js';
import { failure } from '../core/kernel/errors.js';
import { STATUS_FILE } from './status-view.js';

export interface DeviceSnapshotSources {
  dataDir: string;
  logger: Logger;
  now(): number;
  devices(): DriverDescription[];
  buses(): BusDescription[];
  /** The Node-RED child, where one runs. */
  nodeRed?: () => NodeRedView | null;
  /** The technician's status view (status.json). */
  status?: () => unknown;
}

/** What the devices view shows of the Node-RED child (the supervisor's report). */
export interface NodeRedView {
  state: string;
  url: string | null;
  restarts: number;
  dropped: number;
  safeMode: boolean;
  crashLoop: boolean;
}

const EVERY_MS = 5_000;

export class DeviceSnapshot {
  private timer: NodeJS.Timeout | null = null;
  failures = 0;
  /** When the last write was tried (performance.now()): the heartbeat checks that this timer still runs. */
  lastWriteMs: number | null = null;

  constructor(private readonly s: DeviceSnapshotSources) {}

  start(): void {
    this.write();
    this.timer ??= setInterval(() => this.write(), EVERY_MS);
  }

  /** Stops the timer; call write() once more for the last view while the devices still ran. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  write(): void {
    this.lastWriteMs = performance.now();
    const nodeRed = this.s.nodeRed?.() ?? null;
    const snapshot = {
      writtenAt: new Date(this.s.now()).toISOString(),
      pid: process.pid,
      devices: this.s.devices(),
      buses: this.s.buses(),
      ...(nodeRed ? { nodeRed } : {}),
    };
    this.replace('devices.json', snapshot);
    if (this.s.status) this.replace(STATUS_FILE, this.s.status());
  }

  private replace(name: string, view: unknown): void {
    try {
      const file = join(this.s.dataDir, name);
      writeFileSync(`${file}.tmp`, JSON.stringify(view, null, 2));
      renameSync(`${file}.tmp`, file);
    } catch (err) {
      this.failures += 1;
      this.s.logger.warn(failure('STATE_NOT_SAVED', err, { file: name }), 'snapshot not written');
    }
  }
}
