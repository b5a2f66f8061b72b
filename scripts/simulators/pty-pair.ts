/**
 * A real serial line for tests and the demo: `socat` joins two pseudo-terminals, and each
 * end is opened like any /dev/tty. Killing socat is a real unplug; starting it again with
 * the same links is a replug.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class PtyPair {
  readonly a: string;
  readonly b: string;
  private proc: ChildProcess | null = null;
  private readonly dir: string;

  constructor(name = 'line') {
    this.dir = mkdtempSync(join(tmpdir(), `vg-pty-${name}-`));
    this.a = join(this.dir, `${name}-a`);
    this.b = join(this.dir, `${name}-b`);
  }

  async start(): Promise<this> {
    const proc = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${this.a}`, `pty,raw,echo=0,link=${this.b}`], { stdio: 'ignore' });
    this.proc = proc;
    const deadline = Date.now() + 5000;
    while (!(existsSync(this.a) && existsSync(this.b))) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error('socat exited (is it installed? apt-get install -y socat)');
      if (Date.now() > deadline) throw new Error('socat did not create the pty pair in 5 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    return this;
  }

  /** Unplug: both ends vanish. */
  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
