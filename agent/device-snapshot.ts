/**
 * What `village-gateway devices` shows: each driver's own description and each bus's
 * counters, written every few seconds (tmp + rename; no fsync: it is a view, and the next write
 * replaces it). In the same turn, what `village-gateway status` shows (status.json, see
 * status-view.ts). With a runtimeDir (RAM), the views go there every few seconds and to the data
 * folder only every PERSIST_MS and at stop: two files renamed every 5 s cost an SD card an ext4
 * journal commit each, tens of MB a day (disk.bytes_per_day).
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { BusDescription, DriverDescription } from '../core/contracts/driver.js';
import { failure } from '../core/kernel/errors.js';
import { DEVICES_FILE, STATUS_FILE } from './status-view.js';

export interface DeviceSnapshotSources {
  dataDir: string;
  /** RAM for the views written every few seconds; the data folder gets them every PERSIST_MS. */
  runtimeDir?: string | undefined;
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
/** How stale the SD card's copy may be (it is read after a reboot, and for the last county contact). */
const PERSIST_MS = 10 * 60_000;

export class DeviceSnapshot {
  private timer: NodeJS.Timeout | null = null;
  failures = 0;
  /** When the last write was tried (performance.now()): the heartbeat checks that this timer still runs. */
  lastWriteMs: number | null = null;
  private persistedMs: number | null = null;

  constructor(private readonly s: DeviceSnapshotSources) {}

  start(): void {
    // systemd makes /run/village-gateway (RuntimeDirectory=); anywhere else it may not exist yet.
    try {
      if (this.s.runtimeDir !== undefined) mkdirSync(this.s.runtimeDir, { recursive: true });
    } catch (err) {
      this.s.logger.warn(failure('STATE_NOT_SAVED', err, { dir: this.s.runtimeDir }), 'runtimeDir not made'); // counted below
    }
    this.write();
    this.timer ??= setInterval(() => this.write(), EVERY_MS);
  }

  /** Stops the timer; call write() once more for the last view while the devices still ran. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Writes both views; to the data folder too when there is no runtimeDir, at start and stop, and every PERSIST_MS. */
  write(): void {
    const now = performance.now();
    this.lastWriteMs = now;
    const dirs = [this.s.runtimeDir ?? this.s.dataDir];
    const persist = this.timer === null || this.persistedMs === null || now - this.persistedMs >= PERSIST_MS;
    if (this.s.runtimeDir !== undefined && persist) {
      dirs.push(this.s.dataDir);
      this.persistedMs = now;
    }
    const nodeRed = this.s.nodeRed?.() ?? null;
    const snapshot = {
      writtenAt: new Date(this.s.now()).toISOString(),
      pid: process.pid,
      devices: this.s.devices(),
      buses: this.s.buses(),
      ...(nodeRed ? { nodeRed } : {}),
    };
    const status = this.s.status?.();
    for (const dir of dirs) {
      this.replace(dir, DEVICES_FILE, snapshot);
      if (status !== undefined) this.replace(dir, STATUS_FILE, status);
    }
  }

  private replace(dir: string, name: string, view: unknown): void {
    try {
      const file = join(dir, name);
      writeFileSync(`${file}.tmp`, JSON.stringify(view, null, 2));
      renameSync(`${file}.tmp`, file);
    } catch (err) {
      this.failures += 1;
      this.s.logger.warn(failure('STATE_NOT_SAVED', err, { file: name }), 'snapshot not written');
    }
  }
}
