/**
 * A stand-in for systemd's end of NOTIFY_SOCKET: a unix datagram socket (Node has none, so a
 * small python3 process holds it) that records every message as a line, and closes the file
 * descriptor a `systemd-notify` barrier passes along, as the manager does once it has read the
 * messages before it: that is what lets a blocking `systemd-notify` return.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { waitUntil } from './wait.js';

const RECEIVER = `
import array, os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    msg, anc, flags, addr = s.recvmsg(4096, socket.CMSG_SPACE(64))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array('i')
            fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
            for fd in fds:
                os.close(fd)
    text = msg.decode('utf8', 'replace').strip().replace('\\n', ' ')
    if text != 'BARRIER=1':
        print('%d %s' % (time.time() * 1000, text), flush=True)
`;

/** The programs, where Debian puts them (the test preflight installs them). */
export const SYSTEMD_NOTIFY = ['/usr/bin/systemd-notify', '/bin/systemd-notify'].find(existsSync) ?? 'systemd-notify';
export const PYTHON3 = ['/usr/bin/python3', '/bin/python3'].find(existsSync) ?? 'python3';

export class NotifySocket {
  readonly path: string;
  /** Every message received ("READY=1 STATUS=..."), with when the receiver read it (wall clock, ms: the test's own loop may be blocked then). */
  readonly messages: { text: string; atMs: number }[] = [];
  private proc: ChildProcess | null = null;
  private errors = '';

  constructor(dir: string) {
    this.path = join(dir, 'notify.sock');
  }

  async start(): Promise<this> {
    const proc = spawn(PYTHON3, ['-c', RECEIVER, this.path], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    proc.on('error', (err) => (this.errors += `${err.message}\n`));
    let partial = '';
    proc.stdout!.on('data', (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        const space = line.indexOf(' ');
        this.messages.push({ atMs: Number(line.slice(0, space)), text: line.slice(space + 1) });
      }
    });
    proc.stderr!.on('data', (d: Buffer) => (this.errors += d.toString()));
    await waitUntil(() => existsSync(this.path) || proc.exitCode !== null, 5000, 'the notify socket');
    if (!existsSync(this.path)) throw new Error(`notify socket did not start: ${this.errors}`);
    return this;
  }

  count(prefix: string): number {
    return this.messages.filter((m) => m.text.startsWith(prefix)).length;
  }

  stop(): void {
    this.proc?.kill('SIGKILL');
  }
}
