/** Runs the real CLI (`dist/`) as a child process, so tests can kill -9 it like a power cut. */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

export const CLI = fileURLToPath(new URL('../../dist/agent/cli.js', import.meta.url));

export class AgentProcess {
  readonly stored = new Map<string, number>(); // id -> seq, as acknowledged by the outbox
  output = '';
  private proc: ChildProcess | null = null;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null> = Promise.resolve(null);

  constructor(readonly configFile: string) {}

  static writeConfig(dir: string, config: Record<string, unknown>): string {
    const file = join(dir, 'gateway.yaml');
    writeFileSync(file, stringify(config));
    return file;
  }

  start(): this {
    const proc = spawn(process.execPath, [CLI, 'run', '--config', this.configFile, '--print-stored'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    let partial = '';
    proc.stdout!.on('data', (d: Buffer) => {
      const text = partial + d.toString();
      const lines = text.split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        const m = /^stored (\d+) (\S+)$/.exec(line);
        if (m) this.stored.set(m[2]!, Number(m[1]));
        else this.output += `${line}\n`;
      }
    });
    proc.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
    return this;
  }

  async waitForStored(n: number, timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (this.stored.size < n) {
      if (Date.now() > end) throw new Error(`agent stored ${this.stored.size} < ${n} events; output:\n${this.output}`);
      if (this.proc?.exitCode !== null) throw new Error(`agent exited (${this.proc?.exitCode}); output:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get exitCode(): number | null {
    return this.proc?.exitCode ?? null;
  }

  /** Sends a signal without waiting for an exit (SIGHUP: reload). */
  signal(signal: NodeJS.Signals): void {
    this.proc?.kill(signal);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    this.proc?.kill(signal);
    return this.exited;
  }
}
