/**
 * `village-gateway editor ...`: what a technician on site does when the editor is out of
 * reach (run via sudo; the files get the data folder's owner). Each subcommand files a
 * request in the data folder (nodered/technician-requests.ts) that the running agent takes
 * within 2 s, or at its next start when it is not running; the command waits up to 6 s to say
 * which.
 */
import { existsSync, readSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load-config.js';
import { editorPasswordProblem } from '../config/schema/gateway-config.js';
import { foreignCode } from '../core/kernel/errors.js';
import { EDITOR_HELP, EXIT_NOT_PERMITTED } from './cli-help.js';
import { setPasswordOverride } from './nodered/editor-passwords.js';
import { POLL_MS, fileRequest, type TechnicianRequest } from './nodered/technician-requests.js';

export { EXIT_NOT_PERMITTED }; // where the tests and callers have always found it

const DENIED = new Set(['EACCES', 'EPERM', 'EROFS']);

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  user: { type: 'string' },
  'use-config': { type: 'boolean' },
} as const;
const USAGE = `usage:\n${EDITOR_HELP}`;
const say = (s: string) => process.stdout.write(`${s}\n`);
const complain = (s: string) => (process.stderr.write(`${s}\n`), 2);

export async function editorCli(argv: string[]): Promise<number> {
  try {
    return await editorCommand(argv);
  } catch (err) {
    const denied = deniedFile(err);
    if (!denied) throw err;
    // A technician without sudo, or a read-only card: one line naming the file and the fix, no stack.
    process.stderr.write(
      `village-gateway editor: cannot write ${denied.path} (${denied.code}): run this command as the agent's ` +
        `user (the data folder's owner) or with sudo, on a writable data folder\n`,
    );
    return EXIT_NOT_PERMITTED;
  }
}

/** The file and code of a permission (or read-only) error anywhere in an error's causes. */
function deniedFile(err: unknown): { path: string; code: string } | null {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = foreignCode(e);
    if (code && DENIED.has(code)) return { path: (e as NodeJS.ErrnoException).path ?? 'a file', code };
  }
  return null;
}

async function editorCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  const file = values.config ?? process.env.VILLAGE_GATEWAY_CONFIG;
  if (!file) return complain(USAGE);
  const { config } = loadConfig(file, { schemaOnly: true });
  if (!config.nodeRed?.enabled) return complain(`${file}: no enabled nodeRed section: there is no editor here`);
  const dataDir = config.dataDir;
  const [what, arg] = positionals;
  let kind: TechnicianRequest;
  if (what === 'unlock' && arg === undefined) kind = 'unlock';
  else if (what === 'safe-mode' && arg === 'off') kind = 'safe-mode-off';
  else if (what === 'password' && arg === undefined) {
    kind = 'password';
    const username = values.user ?? config.nodeRed.users[0]!.username;
    if (!config.nodeRed.users.some((u) => u.username === username))
      return complain(`no editor user "${username}" in ${file} (nodeRed.users)`);
    if (values['use-config']) {
      await setPasswordOverride(dataDir, username, null);
      say(`${username}: the config's password applies again`);
    } else {
      const password = readFirstLine();
      const problem = editorPasswordProblem(password);
      if (problem) return complain(`the new password must have ${problem}`);
      await setPasswordOverride(dataDir, username, password);
      say(`${username}: new password set`);
    }
  } else return complain(USAGE);
  const request = fileRequest(dataDir, kind);
  for (let waited = 0; waited < 3 * POLL_MS && existsSync(request); waited += 200) await sleep(200);
  say(
    existsSync(request)
      ? `${kind}: filed; the agent is not running (or busy): it applies it at its next start`
      : `${kind}: done by the running agent (see its log)`,
  );
  return 0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The first line of standard input, read synchronously and bounded (a password, not a file). */
function readFirstLine(): string {
  const buf = Buffer.alloc(4096);
  let text = '';
  for (;;) {
    let n: number;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      if ((err as NodeJS.ErrnoException).code === 'EOF') break;
      throw err;
    }
    if (n === 0) break;
    text += buf.subarray(0, n).toString('utf8');
    if (text.includes('\n') || text.length >= 4096) break;
  }
  return text.split(/\r?\n/)[0]!;
}
