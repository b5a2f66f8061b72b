/**
 * The real CLI (`dist/`) as a child process (`run --config FILE --print-stored`), so tests can
 * kill -9 it like a power cut, signal it (SIGHUP: reload) and know how it ended: killed by
 * us, killed by the test-only crash hook (VG_CRASH_AT_WRITE, passed in its own environment),
 * or exited with a code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

export const CLI = fileURLToPath(new URL('../../dist/agent/cli.js', import.meta.url));

export interface Ending {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Splits a `--print-stored` agent's stdout: `stored SEQ ID` lines into `stored`, the rest to `other`. */
export function readStoredLines(proc: ChildProcess, stored: Map<string, number>, other: (line: string) => void): void {
  let partial = '';
  proc.stdout!.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const m = /^stored (\d+) (\S+)$/.exec(line);
      if (m) stored.set(m[2]!, Number(m[1]));
      else other(line);
    }
  });
}

export class AgentChild {
  /** id -> seq of every event the outbox acknowledged ("stored" lines, printed after the commit). */
  readonly stored = new Map<string, number>();
  output = '';
  ending: Ending | null = null;
  private proc: ChildProcess | null = null;
  private ended: Promise<Ending> = Promise.resolve({ code: null, signal: null });

  constructor(
    readonly configFile: string,
    private readonly env: Record<string, string> = {},
    /** Node's own options, e.g. --max-old-space-size=64 as the shipped unit starts the agent. */
    private readonly nodeArgs: string[] = [],
  ) {}

  static writeConfig(dir: string, config: Record<string, unknown>, name = 'gateway.yaml'): string {
    const file = join(dir, name);
    writeFileSync(file, stringify(config));
    return file;
  }

  start(): this {
    const proc = spawn(
      process.execPath,
      [...this.nodeArgs, CLI, 'run', '--config', this.configFile, '--print-stored'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...this.env },
      },
    );
    this.proc = proc;
    readStoredLines(proc, this.stored, (line) => (this.output += `${line}\n`));
    proc.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.ended = new Promise((resolve) => {
      const end = (ending: Ending) => {
        this.ending ??= ending;
        resolve(this.ending);
      };
      proc.once('exit', (code, signal) => end({ code, signal }));
      proc.on('error', (err) => {
        this.output += `process error: ${err.message}\n`;
        if (proc.pid === undefined) end({ code: null, signal: null }); // never started: no exit will come
      });
    });
    return this;
  }

  get running(): boolean {
    return this.proc !== null && this.ending === null;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** The exit code once the process has exited (null while running, or when a signal ended it). */
  get exitCode(): number | null {
    return this.ending?.code ?? null;
  }

  /** Resolves true once `n` events are stored; false if the process ended or `ms` passed first. */
  async storedAtLeast(n: number, ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (this.stored.size < n) {
      if (!this.running || Date.now() > end) return false;
      await new Promise((r) => setTimeout(r, 10)); // the polling step
    }
    return true;
  }

  /** storedAtLeast(), failing with the agent's output when the events do not come. */
  async waitForStored(n: number, ms = 10_000): Promise<void> {
    if (await this.storedAtLeast(n, ms)) return;
    const why = this.running
      ? `not within ${ms} ms`
      : `it ended: code ${this.ending?.code ?? null}, signal ${this.ending?.signal ?? null}`;
    throw new Error(`agent stored ${this.stored.size} < ${n} events (${why}); output:\n${this.output}`);
  }

  /** Sends a signal without waiting for the process to end (SIGHUP: reload). */
  signal(signal: NodeJS.Signals): void {
    if (this.running) this.proc!.kill(signal);
  }

  /** Sends a signal (if still running) and resolves with how the process ended. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<Ending> {
    if (this.running) this.proc!.kill(signal);
    return this.ended;
  }

  /** How the process ends, without signalling it. */
  exit(): Promise<Ending> {
    return this.ended;
  }
}
