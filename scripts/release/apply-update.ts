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
 * Exit: 0 applied (or nothing staged), 1 refused, 2 rolled back.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, lstatSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
  /** install.sh of the release that ran when we started: a new release's own never judges it. */
  installer = '';
  constructor(readonly root: string) {
    this.opt = join(root, 'opt', NAME);
    this.etc = join(root, 'etc', NAME);
    this.data = join(root, 'var/lib', NAME);
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
  const cmd = o.restart ?? (!l.root && existsSync('/run/systemd/system') ? `systemctl restart ${NAME}.service` : null);
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

export async function applyUpdate(o: Options): Promise<UpdateResult | null> {
  const l = new Layout(o.root ? resolve(o.root) : '');
  const staged = o.staged ?? join(l.data, 'update/ready');
  if (!lstatSync(staged, { throwIfNoEntry: false })) {
    say(`nothing staged at ${staged}`);
    return null;
  }
  const from = l.currentVersion();
  l.installer = join(l.opt, 'releases', from, 'scripts/install.sh');
  const base = { v: 1 as const, from, probationSec: o.probation };
  const done = (r: Omit<UpdateResult, 'v' | 'from' | 'probationSec' | 'at'>) => {
    const result = { ...base, ...r, at: new Date().toISOString() };
    writeResult(l, result);
    say(`${result.outcome}: ${from} -> ${result.to}${result.reason ? `: ${result.reason}` : ''}`);
    return result;
  };
  try {
    let to = '?';
    try {
      if (!lstatSync(staged).isDirectory()) throw new Refusal('BAD_PATH', `${staged} is not a folder (a link?)`);
      const m = readVerifiedManifest(staged, join(l.etc, 'update-key.pem'));
      to = m.version;
      if (m.arch !== process.arch)
        throw new Refusal('WRONG_ARCH', `the bundle is for ${m.arch}, this gateway is ${process.arch}`);
      if (m.version === from) throw new Refusal('SAME_VERSION', `release ${from} already runs`);
      const stage = join(l.opt, 'releases', `.${m.version}.update`);
      try {
        const got = assemble(m, staged, join(l.opt, 'releases', from), stage);
        say(`${to}: ${got.staged} files (${got.stagedBytes} bytes) from the update, ${got.reused} from ${from}`);
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
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      return done({ outcome: 'refused', to, reason: err.message, code: err.code });
    }
    const since = Date.now();
    restart(o, l);
    const verdict = await watchProbation(l.data, to, since, o.probation * 1000);
    if (verdict.healthy) return done({ outcome: 'applied', to, reason: null, code: null });
    const back = installSh(l, ['--rollback', '--no-start']);
    restart(o, l);
    const reason = back.ok ? verdict.reason : `${verdict.reason}; the rollback failed too: ${back.out}`;
    return done({ outcome: 'rolled_back', to, reason, code: 'PROBATION_FAILED' });
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
