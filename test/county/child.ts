/** A built script (dist/) run as a child process: its output, waits on what it prints, its exit code. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitUntil } from '../helpers/wait.js';

export const CHECK_CLI = fileURLToPath(new URL('../../dist/scripts/county/check-delivery.js', import.meta.url));
export const SUBSCRIBER_CLI = fileURLToPath(new URL('../../dist/scripts/county-subscriber.js', import.meta.url));

export class Child {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly proc: ChildProcess;

  constructor(script: string, args: string[], stdin?: string) {
    this.proc = spawn(process.execPath, [script, ...args], {
      stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    this.proc.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.proc.on('error', (err) => (this.stderr += `spawn error: ${err.message}\n`));
    if (stdin !== undefined) this.proc.stdin!.end(stdin);
    // 'close', not 'exit': only then has all of its output been read.
    this.exited = new Promise((resolve) => this.proc.once('close', (code) => resolve(code)));
  }

  async waitFor(what: RegExp | ((c: Child) => boolean), ms = 15_000): Promise<void> {
    const cond = typeof what === 'function' ? () => what(this) : () => what.test(this.stderr) || what.test(this.stdout);
    await waitUntil(
      () => cond() || this.proc.exitCode !== null || this.proc.signalCode !== null,
      ms,
      `${what.toString()} from the child`,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
    });
    if (!cond())
      throw new Error(
        `the child exited (${this.proc.exitCode}) before ${what.toString()}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`,
      );
  }

  signal(sig: NodeJS.Signals): void {
    this.proc.kill(sig);
  }

  /** Ends it for good (a cleanup after a failed test). */
  async dispose(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    await this.exited;
  }
}

/** Runs to its end: exit code and output. */
export async function run(
  script: string,
  args: string[],
  stdin?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const c = new Child(script, args, stdin);
  const code = await c.exited;
  return { code, stdout: c.stdout, stderr: c.stderr };
}
