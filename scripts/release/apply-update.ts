/**
 * The root-side update step (village-gateway-update.service, or the CI stand-in supervisor):
 *
 *   node /opt/village-gateway/current/dist/scripts/release/apply-update.js [--root DIR]
 *     [--staged DIR] [--probation SEC] [--restart "CMD"]
 *
 * takes the update the unprivileged agent staged (default /var/lib/village-gateway/update/ready:
 * manifest.json, manifest.sig and the changed files), checks it against the county key in
 * /etc/village-gateway/update-key.pem (root's, never the staged folder's), assembles the release
 * (unchanged files from the running one), installs and switches with install.sh, restarts the
 * agent and watches its probation; a release that does not start with the county link up in
 * the window is switched back (install.sh --rollback) and the agent restarted. Runs with the
 * node and the code of the release that runs now. Leaves dataDir/update-result.json (the
 * agent's to read and report) and removes the staged folder whatever happened.
 * A run stopped mid-probation (a power cut) leaves a note in /opt; the next run judges again.
 * Exit: 0 applied (or nothing staged), 1 refused, 2 rolled back.
 */
import { spawnSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  lstatSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { updateResultFile, type UpdateResult } from '../../agent/update-result.js';
import { assemble, readVerifiedManifest } from './assemble.js';
import { Refusal } from './manifest.js';
import { watchProbation } from './probation-watch.js';
import { isMain } from './is-main.js';

const NAME = 'village-gateway';

const optionsSchema = z.strictObject({
  root: z.string().default(''),
  staged: z.string().optional(),
  probation: z.coerce.number().int().min(5).max(3600).default(180),
  restart: z.string().optional(),
});
type Options = z.output<typeof optionsSchema>;

const say = (msg: string) => console.log(`${NAME} update: ${msg}`);

class Layout {
  readonly opt: string;
  readonly etc: string;
  readonly data: string;
  /** The unit's RuntimeDirectory: the agent's status view lives there with runtimeDir set (the example config). */
  readonly run: string;
  /** install.sh of the release that ran when we started: a new release's own never judges it. */
  installer = '';
  constructor(readonly root: string) {
    this.opt = join(root, 'opt', NAME);
    this.etc = join(root, 'etc', NAME);
    this.data = join(root, 'var/lib', NAME);
    this.run = join(root, 'run', NAME);
  }
  currentVersion(): string {
    return basename(readlinkSync(join(this.opt, 'current')));
  }
}

/** install.sh of the release that runs: the switch, the rollback and their checks live there only. */
function installSh(l: Layout, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('bash', [l.installer, ...(l.root ? ['--root', l.root] : []), ...args], {
    encoding: 'utf8',
    env: { ...process.env, NODE: process.execPath },
    timeout: 600_000,
  });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  if (out) console.log(out); // install.sh's own lines, for the journal
  return { ok: r.status === 0, out };
}

function restart(o: Options, l: Layout): void {
  // reset-failed first: a release that crash-looped through its probation has used up the unit's
  // StartLimitBurst, and systemd then refuses every start, the old release's included.
  const systemd = `systemctl reset-failed ${NAME}.service; systemctl restart ${NAME}.service`;
  const cmd = o.restart ?? (!l.root && existsSync('/run/systemd/system') ? systemd : null);
  if (!cmd) return say('no --restart command and no systemd: the agent is not restarted');
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) say(`restart (${cmd}) failed: ${r.stderr}`);
}

/** Written so the agent (the data folder's owner) can read and then remove it. */
function writeResult(l: Layout, r: UpdateResult): void {
  const file = updateResultFile(l.data);
  writeFileSync(`${file}.tmp`, JSON.stringify(r) + '\n', { mode: 0o640 });
  const owner = statSync(l.data);
  chownSync(`${file}.tmp`, owner.uid, owner.gid);
  renameSync(`${file}.tmp`, file);
}

/**
 * Root's own note of a switch under probation (in /opt, which the agent cannot write): a power
 * cut or a kill of this step mid-window leaves it, and the next run (the staged folder is still
 * there, so the path unit starts it at boot) judges the new release again instead of keeping
 * it unjudged.
 */
const pendingSchema = z.strictObject({ from: z.string(), to: z.string(), since: z.number() });
const pendingFile = (l: Layout) => join(l.opt, '.update-pending.json');

function readPending(l: Layout): z.infer<typeof pendingSchema> | null {
  try {
    return pendingSchema.parse(JSON.parse(readFileSync(pendingFile(l), 'utf8')));
  } catch {
    return null; // none, or torn before its rename: nothing was switched under it
  }
}

function writePending(l: Layout, p: z.infer<typeof pendingSchema>): void {
  writeFileSync(`${pendingFile(l)}.tmp`, JSON.stringify(p));
  renameSync(`${pendingFile(l)}.tmp`, pendingFile(l));
}

type Outcome = Omit<UpdateResult, 'v' | 'from' | 'probationSec' | 'at'>;

/** The probation of a release already switched to; a failure switches back. */
async function judge(o: Options, l: Layout, from: string, to: string, restartFirst: boolean): Promise<Outcome> {
  const since = Date.now();
  if (restartFirst) restart(o, l);
  const verdict = await watchProbation([l.run, l.data], to, since, o.probation * 1000);
  if (verdict.healthy) return { outcome: 'applied', to, reason: null, code: null };
  const back = installSh(l, ['--rollback', '--no-start']);
  restart(o, l);
  const reason = back.ok ? verdict.reason : `${verdict.reason}; the rollback failed too: ${back.out}`;
  return { outcome: 'rolled_back', to, reason, code: 'PROBATION_FAILED' };
}

/** Checks, assembles and installs the staged update (switched, not restarted): its version, or a Refusal. */
function install(l: Layout, staged: string, from: string, said: { to: string }): void {
  if (!lstatSync(staged).isDirectory()) throw new Refusal('BAD_PATH', `${staged} is not a folder (a link?)`);
  const verified = readVerifiedManifest(staged, join(l.etc, 'update-key.pem'));
  const m = verified.manifest;
  const to = (said.to = m.version);
  if (m.arch !== process.arch)
    throw new Refusal('WRONG_ARCH', `the bundle is for ${m.arch}, this gateway is ${process.arch}`);
  if (m.version === from) throw new Refusal('SAME_VERSION', `release ${from} already runs`);
  const stage = join(l.opt, 'releases', `.${m.version}.update`);
  try {
    const got = assemble(verified, staged, join(l.opt, 'releases', from), stage);
    say(`${to}: ${got.staged} files (${got.stagedBytes} bytes) from the update, ${got.reused} from ${from}`);
    // Noted before install.sh switches: a stop right after the switch must not leave it unjudged.
    writePending(l, { from, to, since: Date.now() });
    const inst = installSh(l, ['--from', stage, '--no-start']);
    if (!inst.ok || l.currentVersion() !== to) {
      if (l.currentVersion() !== from) installSh(l, ['--rollback', '--no-start']);
      throw new Refusal(
        'INSTALL_FAILED',
        `install.sh did not switch to ${to}: ${inst.out.split('\n').slice(-3).join(' / ')}`,
      );
    }
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

export async function applyUpdate(o: Options): Promise<UpdateResult | null> {
  const l = new Layout(o.root ? resolve(o.root) : '');
  const staged = o.staged ?? join(l.data, 'update/ready');
  const pending = readPending(l);
  if (pending && l.currentVersion() !== pending.to) rmSync(pendingFile(l), { force: true }); // already put back
  if (!lstatSync(staged, { throwIfNoEntry: false }) && !readPending(l)) {
    say(`nothing staged at ${staged}`);
    return null;
  }
  const from = pending && l.currentVersion() === pending.to ? pending.from : l.currentVersion();
  l.installer = join(l.opt, 'releases', from, 'scripts/install.sh');
  const done = (r: Outcome) => {
    const result: UpdateResult = { v: 1, from, probationSec: o.probation, ...r, at: new Date().toISOString() };
    writeResult(l, result);
    rmSync(pendingFile(l), { force: true });
    say(`${result.outcome}: ${from} -> ${result.to}${result.reason ? `: ${result.reason}` : ''}`);
    return result;
  };
  try {
    if (readPending(l)) {
      say(`${pending!.to} was switched to but not judged (this step was stopped): judging it again`);
      return done(await judge(o, l, from, pending!.to, false));
    }
    const said = { to: '?' };
    try {
      install(l, staged, from, said);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      return done({ outcome: 'refused', to: said.to, reason: err.message, code: err.code });
    }
    return done(await judge(o, l, from, said.to, true));
  } finally {
    // Whatever happened, the folder goes: a .path unit on it would otherwise start us again.
    rmSync(staged, { recursive: true, force: true });
  }
}

function parseArgs(argv: string[]): Options {
  const o: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const m = /^--(root|staged|probation|restart)$/.exec(argv[i]!);
    if (!m || argv[i + 1] === undefined)
      throw new Error(`unexpected argument ${argv[i]} (see the header of apply-update.ts)`);
    o[m[1]!] = argv[i + 1]!;
  }
  return optionsSchema.parse(o);
}

if (isMain(import.meta.url)) {
  applyUpdate(parseArgs(process.argv.slice(2))).then(
    (r) => process.exit(!r || r.outcome === 'applied' ? 0 : r.outcome === 'refused' ? 1 : 2),
    (err: unknown) => {
      console.error(
        `${NAME} update: error: ${err instanceof z.ZodError ? z.prettifyError(err) : (err as Error).stack}`,
      );
      process.exit(3);
    },
  );
}
