/**
 * `village-gateway editor password` run by someone who may not write the data folder's editor
 * files (a technician without sudo): one clear line naming the file and the fix, exit 4, no
 * stack trace; nothing written. Run as `nobody` (the tests run as root, which no mode stops).
 */
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT_NOT_PERMITTED } from '../../agent/cli-editor.js';
import { passwordsFile } from '../../agent/nodered/editor-passwords.js';
import { editorConfigFile, runCli } from '../helpers/node-red.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs();
const NOBODY = { uid: 65534, gid: 65534 };

describe('editor commands without the right to write the data folder', () => {
  it('password as another user: one line naming the file and the fix, exit 4', async () => {
    expect(process.getuid?.()).toBe(0); // the tests run as root (CI and here): nobody is reachable
    const dataDir = tempDir();
    mkdirSync(join(dataDir, 'editor'));
    const confDir = tempDir();
    const config = editorConfigFile(confDir, dataDir);
    // Readable by nobody (mkdtemp makes 0700), writable only by root.
    for (const d of [dataDir, join(dataDir, 'editor'), confDir]) chmodSync(d, 0o755);
    chmodSync(config, 0o644);

    const r = await runCli(['editor', 'password', '--config', config], 'a-new-password-on-site\n', NOBODY);
    expect(r.stderr).toContain(`cannot write ${passwordsFile(dataDir)}.tmp (EACCES)`);
    expect(r.stderr).toContain("run this command as the agent's user (the data folder's owner) or with sudo");
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.status).toBe(EXIT_NOT_PERMITTED);
    expect(EXIT_NOT_PERMITTED).toBe(4);
    expect(existsSync(passwordsFile(dataDir))).toBe(false);

    // unlock files a request: the same answer when the requests folder cannot be made.
    const u = await runCli(['editor', 'unlock', '--config', config], '', NOBODY);
    expect(u.stderr).toContain(`cannot write ${join(dataDir, 'editor', 'requests')} (EACCES)`);
    expect(u.status).toBe(4);
  }, 60_000);
});
