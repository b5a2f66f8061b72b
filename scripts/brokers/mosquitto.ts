/**
 * Starts a real Mosquitto on free loopback ports, for tests and benchmarks: plain MQTT,
 * optionally a TLS listener that requires client certificates, optionally persistence.
 * It can be stopped gracefully, killed (-9) and restarted on the same ports.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './free-port.js';

export interface MosquittoOptions {
  tls?: { ca: string; cert: string; key: string };
  persistence?: boolean;
  /**
   * Seconds between persistence saves (Mosquitto's default: 1800). Only a save survives a
   * kill -9: a short interval keeps the county's session (its subscriptions) across one.
   */
  autosaveIntervalSec?: number;
  /** Require these username/password pairs (made with mosquitto_passwd) on the plain listener. */
  users?: Record<string, string>;
  /** Lines appended to the generated config (e.g. `max_connections`, a bridge section). */
  extraConfig?: string[];
  /**
   * The whole config instead of the generated one (a deployable example file with the test's
   * port and folder put in): it must listen on `port`; `user root` is added when run as root.
   */
  render?: (at: { port: number; dir: string }) => string;
}

export function mosquittoPath(): string | null {
  for (const p of ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto']) {
    if (spawnSync(p, ['-h']).error === undefined) return p;
  }
  const r = spawnSync('sh', ['-c', 'command -v mosquitto']);
  return r.status === 0 ? r.stdout.toString().trim() : null;
}

export class Mosquitto {
  port = 0;
  tlsPort = 0;
  private proc: ChildProcess | null = null;
  private readonly dir = mkdtempSync(join(tmpdir(), 'vg-mosquitto-'));
  log = '';

  constructor(
    private readonly binary: string,
    private readonly opts: MosquittoOptions = {},
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get tlsUrl(): string {
    return `mqtts://127.0.0.1:${this.tlsPort}`;
  }

  async start(): Promise<this> {
    if (this.port === 0) this.port = await freePort();
    if (this.opts.tls && this.tlsPort === 0) this.tlsPort = await freePort();
    const lines = [
      `listener ${this.port} 127.0.0.1`,
      `allow_anonymous ${this.opts.users ? 'false' : 'true'}`,
      'max_queued_messages 0', // 0 = no limit: the county subscriber's session must not drop
      'max_inflight_messages 0',
      `persistence ${this.opts.persistence ? 'true' : 'false'}`,
      `persistence_location ${this.dir}/`,
      ...(this.opts.autosaveIntervalSec !== undefined ? [`autosave_interval ${this.opts.autosaveIntervalSec}`] : []),
      'log_dest stderr',
      'log_type error',
      'log_type warning',
    ];
    if (process.getuid?.() === 0) lines.push('user root');
    if (this.opts.users) {
      const file = join(this.dir, 'passwd');
      writeFileSync(file, '');
      for (const [user, password] of Object.entries(this.opts.users)) {
        const r = spawnSync('mosquitto_passwd', ['-b', file, user, password]);
        if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr.toString()}`);
      }
      lines.push(`password_file ${file}`);
    }
    lines.push(...(this.opts.extraConfig ?? []));
    if (this.opts.render) lines.splice(0, lines.length, this.opts.render({ port: this.port, dir: this.dir }));
    if (this.opts.render && process.getuid?.() === 0) lines.push('user root');
    if (this.opts.tls) {
      const { ca, cert, key } = this.opts.tls;
      lines.push(
        `listener ${this.tlsPort} 127.0.0.1`,
        `cafile ${ca}`,
        `certfile ${cert}`,
        `keyfile ${key}`,
        'require_certificate true',
        'use_identity_as_username true',
      );
    }
    const conf = join(this.dir, 'mosquitto.conf');
    writeFileSync(conf, `${lines.join('\n')}\n`);
    const proc = spawn(this.binary, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
    proc.on('error', (err) => (this.log += `spawn error: ${err.message}\n`)); // e.g. a signal to a process already gone
    this.proc = proc;
    await Promise.race([
      waitForPort(this.port),
      new Promise((_, reject) =>
        proc.once('exit', (code) => reject(new Error(`mosquitto exited (${code}): ${this.log}`))),
      ),
    ]);
    if (this.opts.tls) await waitForPort(this.tlsPort);
    return this;
  }

  /** The broker's process id while it runs (its CPU and memory are read from /proc/<pid>). */
  get pid(): number | null {
    return this.proc && this.proc.exitCode === null ? (this.proc.pid ?? null) : null;
  }

  /** The persistence file (exists once Mosquitto has saved at least once). */
  get persistenceFile(): string {
    return join(this.dir, 'mosquitto.db');
  }

  /**
   * Sends a signal without waiting for an exit: SIGSTOP freezes the broker with its sockets
   * open (a half-open link, as a hung broker or a dead cell looks to the gateway), SIGCONT
   * thaws it.
   */
  signal(signal: NodeJS.Signals): void {
    if (!this.proc || this.proc.exitCode !== null) throw new Error('mosquitto is not running');
    this.proc.kill(signal);
  }

  /** SIGTERM (persistence is saved) or SIGKILL. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill(signal);
      if (signal !== 'SIGKILL') proc.kill('SIGCONT'); // a frozen broker (SIGSTOP) handles SIGTERM only once thawed
    });
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
