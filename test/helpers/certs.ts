/** Certificates made in the test with openssl: a CA, a server cert for 127.0.0.1, a client cert. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { Mosquitto } from '../../scripts/brokers/mosquitto.js';
import { requireMosquitto } from './broker.js';

export interface TestCerts {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  rogueCert: string;
  rogueKey: string;
}

const ssl = (dir: string, ...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** A CA of its own (`name`.key, `name`.pem in `dir`), valid two days. */
const selfSignedCa = (dir: string, cn: string, name: string) =>
  ssl(
    dir,
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${cn}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
  );

export function makeCerts(dir: string): TestCerts {
  selfSignedCa(dir, 'county-test-ca', 'ca');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  const leaf = (name: string, cn: string, ext?: string, ca = 'ca') => {
    ssl(
      dir,
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${cn}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    );
    ssl(
      dir,
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.pem`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      `${name}.pem`,
      ...(ext ? ['-extfile', ext] : []),
    );
  };
  leaf('server', 'localhost', 'server.ext');
  leaf('client', 'gw-tls');
  // A client certificate from a CA the broker does not trust.
  selfSignedCa(dir, 'rogue-ca', 'rogue-ca');
  leaf('rogue', 'gw-rogue', undefined, 'rogue-ca');
  const p = (f: string) => join(dir, f);
  return {
    ca: p('ca.pem'),
    serverCert: p('server.pem'),
    serverKey: p('server.key'),
    clientCert: p('client.pem'),
    clientKey: p('client.key'),
    rogueCert: p('rogue.pem'),
    rogueKey: p('rogue.key'),
  };
}

/**
 * One Mosquitto for the file's tests that requires TLS with a client certificate, and the
 * certificates it trusts (read `.broker` and `.certs` inside tests).
 */
export function useTlsBroker(): { broker: Mosquitto; certs: TestCerts } {
  const holder = {} as { broker: Mosquitto; certs: TestCerts };
  let dir = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vg-certs-'));
    holder.certs = makeCerts(dir);
    const { ca, serverCert: cert, serverKey: key } = holder.certs;
    holder.broker = await new Mosquitto(requireMosquitto(), { tls: { ca, cert, key } }).start();
  });
  afterAll(async () => {
    await holder.broker.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  return holder;
}
