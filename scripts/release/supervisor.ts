/**
 * A stand-in for systemd where there is none (CI, tests): the same contract as
 * village-gateway.service (Restart=always) plus village-gateway-update.path/.service, in a root
 * made by install.sh --root:
 *
 *   node dist/scripts/release/supervisor.js --root DIR [--probation SEC] [--agent-arg ARG]...
 *
 * runs the agent from `current` (looked up again at every start, as ExecStart's path is), starts
 * it again 1 s after it ends, and when `update/ready` appears in the data folder runs the apply
 * step of the release that runs, which restarts the agent through SIGUSR2 to this process.
 * SIGTERM stops the agent (SIGTERM: it flushes) and then this process. The agent's output is
 * passed through; the supervisor's own lines go to stderr, prefixed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { isMain } from './is-main.js';

const optionsSchema = z.strictObject({
  root: z.string().min(1),
  probation: z.coerce.number().int().min(5).default(60),
  agentArgs: z.array(z.string()).default([]),
});

const say = (msg: string) => process.stderr.write(`supervisor: ${msg}\n`);

export function supervise(input: z.input<typeof optionsSchema>): { stop(): Promise<void> } {
  const o = optionsSchema.parse(input);
  const root = resolve(o.root);
  const current = join(root, 'opt/village-gateway/current');
  const ready = join(root, 'var/lib/village-gateway/update/ready');
  let agent: ChildProcess | null = null;
  let applying = false;
  let stopping = false;
  let restartTimer: NodeJS.Timeout | null = null;

  const start = () => {
    restartTimer = null;
    if (stopping) return;
    const child = spawn(
      process.execPath,
      [
        join(current, 'dist/agent/cli.js'),
        'run',
        '--config',
        join(root, 'etc/village-gateway/gateway.yaml'),
        ...o.agentArgs,
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    agent = child;
    say(`agent started (pid ${child.pid})`);
    child.on('error', (err) => say(`agent did not start: ${err.message}`));
    child.on('exit', (code, signal) => {
      say(`agent ended (code ${code}, signal ${signal})`);
      if (agent === child) agent = null;
      if (!stopping) restartTimer = setTimeout(start, 1000); // Restart=always, RestartSec (shorter here)
    });
  };

  // The apply step's restart: stop the agent; its exit handler starts it again from `current`.
  const onRestart = () => {
    say('restart asked');
    if (agent) agent.kill('SIGTERM');
    else if (!restartTimer) start();
  };
  process.on('SIGUSR2', onRestart);

  const poll = setInterval(() => {
    if (applying || stopping || !existsSync(ready)) return;
    applying = true;
    const step = spawn(
      process.execPath,
      [
        join(current, 'dist/scripts/release/apply-update.js'),
        '--root',
        root,
        '--probation',
        String(o.probation),
        '--restart',
        `kill -USR2 ${process.pid}`,
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    say(`update step started (pid ${step.pid})`);
    step.on('error', (err) => say(`update step did not start: ${err.message}`));
    step.on('exit', (code) => {
      say(`update step ended (code ${code})`);
      applying = false;
    });
  }, 500);

  start();
  return {
    async stop() {
      stopping = true;
      clearInterval(poll);
      if (restartTimer) clearTimeout(restartTimer);
      process.off('SIGUSR2', onRestart);
      const a = agent;
      if (a && a.exitCode === null && a.signalCode === null) {
        await new Promise<void>((done) => {
          a.once('exit', () => done());
          a.kill('SIGTERM');
        });
      }
    },
  };
}

if (isMain(import.meta.url)) {
  const args = process.argv.slice(2);
  const raw: { root?: string; probation?: string; agentArgs: string[] } = { agentArgs: [] };
  for (let i = 0; i < args.length; i += 2) {
    if (args[i] === '--root') raw.root = args[i + 1];
    else if (args[i] === '--probation') raw.probation = args[i + 1];
    else if (args[i] === '--agent-arg') raw.agentArgs.push(args[i + 1] ?? '');
    else {
      say(`unexpected argument ${args[i]} (see the header of supervisor.ts)`);
      process.exit(2);
    }
  }
  const s = supervise({ ...raw, root: raw.root ?? '' }); // zod names a missing --root
  process.once('SIGTERM', () => void s.stop().then(() => process.exit(0)));
}
