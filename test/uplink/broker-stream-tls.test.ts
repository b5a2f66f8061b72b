/**
 * The uplink's own TLS socket (broker-stream.ts) against a real Mosquitto (TLS, client
 * certificates required): a CA that does not vouch for the broker is refused and the loop keeps
 * trying; a host name is the server name; a TLS socket reset after connect reaches the
 * Connection and is retried (no unhandled 'error').
 */
import { describe, expect, it } from 'vitest';
import { Connection } from '../../agent/uplink/connection.js';
import { topicsFor } from '../../agent/uplink/topics.js';
import { WeakLink } from '../../scripts/weak-link/weak-link.js';
import { useTlsBroker } from '../helpers/certs.js';
import { testConfig } from '../helpers/agent-config.js';
import { FakeClock } from '../helpers/events.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const cleanup = useCleanups();
const tls = useTlsBroker();

function connection(url: string, tls: Record<string, unknown>): Connection {
  const dir = tempDir();
  const config = testConfig(url, dir, {
    mqtt: { protocolVersion: 5, tls, reconnect: { minMs: 100, maxMs: 1000, jitter: 0 } },
  });
  const conn = new Connection({
    config: config.mqtt,
    baseDir: dir,
    clientId: `gw-review-${Math.random().toString(16).slice(2, 8)}`,
    topics: topicsFor('v/gw-review'),
    identity: { gatewayId: 'gw-review', bootId: 'b', version: 'v', configHash: 'h' },
    logger: quietLogger(),
    clock: new FakeClock(),
    alarmsWaiting: () => false,
  });
  cleanup(() => conn.stop(500));
  return conn;
}

const tlsPort = () => Number(new URL(tls.broker.tlsUrl).port);

describe('broker-stream TLS', () => {
  it('a CA that does not vouch for the broker: refused, the error reaches the Connection, retried', async () => {
    const conn = connection(tls.broker.tlsUrl, {
      ca: tls.certs.rogueCert,
      cert: tls.certs.clientCert,
      key: tls.certs.clientKey,
    });
    let ups = 0;
    conn.on('up', () => (ups += 1));
    conn.start();
    await waitUntil(() => conn.attempts >= 3, 15_000, 'three attempts');
    expect(ups).toBe(0);
    expect(conn.lastError ?? '').toMatch(/certificate|self.signed|verify/i);
  });

  it('rejectUnauthorized false with the wrong CA connects (as mqtt.js does)', async () => {
    const conn = connection(tls.broker.tlsUrl, {
      ca: tls.certs.rogueCert,
      cert: tls.certs.clientCert,
      key: tls.certs.clientKey,
      rejectUnauthorized: false,
    });
    conn.start();
    await waitUntil(() => conn.state === 'up', 15_000, 'up');
  });

  it('mqtts://localhost: the host name is the server name (the cert has DNS:localhost)', async () => {
    const conn = connection(`mqtts://localhost:${tlsPort()}`, {
      ca: tls.certs.ca,
      cert: tls.certs.clientCert,
      key: tls.certs.clientKey,
    });
    conn.start();
    await waitUntil(() => conn.state === 'up', 15_000, 'up');
  });

  it('a servername the certificate does not name is refused (the option is used)', async () => {
    const conn = connection(tls.broker.tlsUrl, {
      ca: tls.certs.ca,
      cert: tls.certs.clientCert,
      key: tls.certs.clientKey,
      servername: 'county.example.org',
    });
    conn.start();
    await waitUntil(() => conn.attempts >= 2, 15_000, 'two attempts');
    expect(conn.state).not.toBe('up');
    expect(conn.lastError ?? '').toMatch(/altnames|Hostname|certificate/i);
  });

  it('no client certificate: the broker refuses; retried, no crash', async () => {
    const conn = connection(tls.broker.tlsUrl, { ca: tls.certs.ca });
    conn.start();
    await waitUntil(() => conn.attempts >= 3, 15_000, 'three attempts');
    expect(conn.state).not.toBe('up');
  });

  it('a TLS link reset after connect (RST) goes down and comes back up', async () => {
    const link = await WeakLink.start({ targetPort: tlsPort() });
    cleanup(() => link.stop());
    const url = link.url.replace(/^mqtt:/, 'mqtts:');
    const conn = connection(url, { ca: tls.certs.ca, cert: tls.certs.clientCert, key: tls.certs.clientKey });
    let ups = 0;
    let downs = 0;
    conn.on('up', () => (ups += 1));
    conn.on('down', () => (downs += 1));
    conn.start();
    await waitUntil(() => ups === 1, 15_000, 'up');
    link.reset();
    await waitUntil(() => downs === 1 && ups === 2, 15_000, 'down and up again');
    link.cut();
    await waitUntil(() => downs === 2, 15_000, 'down on cut');
    link.restore();
    await waitUntil(() => ups === 3, 15_000, 'up after restore');
  });
});
