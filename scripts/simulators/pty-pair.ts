/**
 * A real serial line for tests and the demo: `socat` joins two pseudo-terminals, and each
 * end is opened like any /dev/tty. Killing socat is a real unplug; starting it again with
 * the same links is a replug.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const XOFF = 0x13;
const XON = 0x11;

export class PtyPair {
  readonly a: string;
  readonly b: string;
  /** The last error socat's process reported (e.g. ENOENT: socat is not installed). */
  lastError: string | null = null;
  private proc: ChildProcess | null = null;
  private readonly dir: string;

  constructor(name = 'line') {
    this.dir = mkdtempSync(join(tmpdir(), `vg-pty-${name}-`));
    this.a = join(this.dir, `${name}-a`);
    this.b = join(this.dir, `${name}-b`);
  }

  async start(): Promise<this> {
    const proc = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${this.a}`, `pty,raw,echo=0,link=${this.b}`], {
      stdio: 'ignore',
    });
    // Without a listener a failed spawn (no socat) is an uncaught 'error', not the message below.
    proc.on('error', (err) => (this.lastError = err.message));
    this.proc = proc;
    const deadline = Date.now() + 5000;
    while (!(existsSync(this.a) && existsSync(this.b))) {
      if (this.lastError || proc.exitCode !== null || proc.signalCode !== null)
        throw new Error(
          `socat exited (is it installed? apt-get install -y socat)${this.lastError ? `: ${this.lastError}` : ''}`,
        );
      if (Date.now() > deadline) throw new Error('socat did not create the pty pair in 5 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    return this;
  }

  /**
   * Holds every write the `b` end makes from now on (software flow control: the `a` end
   * sends XOFF with IXON set on `b`), so a write stays in flight, as on a line whose
   * adapter stopped draining. Call after `b` is opened: opening resets its termios.
   */
  holdWritesFromB(): void {
    execFileSync('stty', ['-F', this.b, 'ixon']);
    this.sendFromA(XOFF);
  }

  /** Lets held writes go (XON). */
  releaseWritesFromB(): void {
    this.sendFromA(XON);
  }

  /** One control byte from the `a` end, beside whoever has it open (O_NOCTTY: never our terminal). */
  private sendFromA(byte: number): void {
    const fd = openSync(this.a, constants.O_WRONLY | constants.O_NOCTTY | constants.O_NONBLOCK);
    try {
      writeSync(fd, Buffer.from([byte]));
    } finally {
      closeSync(fd);
    }
  }

  /** Unplug: both ends vanish. */
  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
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
