/**
 * The county's signing tools against a real agent and a real Mosquitto: the Python example
 * (docs/county.md, "Signed commands"; the `cryptography` package) and scripts/county/sign-command.ts,
 * each from a PEM private key file as `openssl genpkey -algorithm ed25519` writes it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { publicKeyValue } from '../../scripts/county/signed-envelope.js';
import { baseConfig, PushRig } from '../push/push-rig.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

const root = new URL('../../', import.meta.url).pathname;
const CLI = join(root, 'dist/scripts/county/sign-command.js');

/** Runs the sign-command CLI to its end (async: the agent child must keep being served meanwhile). */
function signCommandCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => resolve({ code: -1, stdout, stderr: err.message }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('county signing tools', () => {
  it('the Python example and sign-command sign what the gateway accepts', { timeout: 60_000 }, async () => {
    const r = new PushRig('gw-tools', tempDir(), brokerRef.current.url, cleanup);
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = join(r.dir, 'county.pem');
    writeFileSync(pem, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    await r.start({
      ...baseConfig(r.gatewayId, r.dir, r.url),
      county: { keys: [{ id: 'county-2026', publicKey: publicKeyValue(privateKey) }] },
    });

    const py = spawnSync(
      'python3',
      [join(root, 'scripts/county/sign_command.py'), pem, 'county-2026', r.gatewayId, 'ping', '{}', 'py-1'],
      { encoding: 'utf8' },
    );
    expect(py.stderr).toBe('');
    expect(py.status).toBe(0);
    const fromPython = await r.send('ping', py.stdout.trim(), 'py-1');
    expect(fromPython).toMatchObject({ ok: true, result: { pong: true } });
    // The same envelope again is a replay.
    expect((await r.send('ping', py.stdout.trim(), 'py-1')).error?.code).toBe('REPLAYED');

    const pub = await signCommandCli(['--key', pem, '--public-key']);
    expect(pub).toMatchObject({ code: 0, stdout: `${publicKeyValue(privateKey)}\n` });

    const printed = await signCommandCli([
      '--key',
      pem,
      '--key-id',
      'county-2026',
      '--gateway',
      r.gatewayId,
      '--command',
      'ping',
      '--id',
      'cli-1',
    ]);
    expect(printed.code).toBe(0);
    expect(JSON.parse(printed.stdout)).toMatchObject({
      keyId: 'county-2026',
      signed: expect.stringContaining('"nonce"'),
    });
    expect((await r.send('ping', printed.stdout.trim(), 'cli-1')).ok).toBe(true);

    const published = await signCommandCli([
      ...['--key', pem, '--key-id', 'county-2026', '--gateway', r.gatewayId, '--command', 'status', '--id', 'cli-2'],
      ...['--url', r.url],
    ]);
    expect(published.stderr).toBe('');
    expect(published.code).toBe(0);
    expect(JSON.parse(published.stdout)).toMatchObject({ id: 'cli-2', ok: true, command: 'status' });

    // A key the gateway does not list: the CLI prints the refusal and exits 1.
    const other = join(r.dir, 'other.pem');
    writeFileSync(other, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const refused = await signCommandCli([
      ...['--key', other, '--key-id', 'county-2026', '--gateway', r.gatewayId, '--command', 'ping', '--id', 'cli-3'],
      ...['--url', r.url],
    ]);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ ok: false, error: { code: 'BAD_SIGNATURE' } });
  });
});
