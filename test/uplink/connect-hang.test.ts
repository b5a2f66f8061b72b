/**
 * Review probe: an alarm stored while a connect attempt hangs (a cell that takes the SYN and
 * nothing after; here a TCP server that accepts and never answers). The attempt began while no
 * alarm waited, so it has the long connectTimeoutMs (30 s default); alarmRetry's shorter
 * connect timeout (and hurry) apply only to the next attempt.
 */
import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Connection } from '../../agent/uplink/connection.js';
import { topicsFor } from '../../agent/uplink/topics.js';
import { testConfig } from '../helpers/agent-config.js';
import { FakeClock } from '../helpers/events.js';
import { useCleanups } from '../helpers/lifecycle.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const tempDir = useTempDirs();
const cleanup = useCleanups();

describe('an alarm while a connect attempt hangs', () => {
  it(
    "is retried within alarmRetry, not after the hung attempt's long connect timeout",
    { timeout: 30_000 },
    async () => {
      const sockets: Socket[] = [];
      const server = createServer((s) => sockets.push(s)); // takes the connection, never answers
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      cleanup(
        () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      );
      const port = (server.address() as { port: number }).port;
      const dir = tempDir();
      const config = testConfig(`mqtt://127.0.0.1:${port}`, dir, {
        mqtt: {
          connectTimeoutMs: 30_000, // the default
          reconnect: { minMs: 1000, maxMs: 300_000, jitter: 0 },
          alarmRetry: { minMs: 200, maxMs: 400, ackTimeoutMs: 10_000, connectTimeoutMs: 2000 },
        },
      });
      let alarms = false;
      const conn = new Connection({
        config: config.mqtt,
        baseDir: dir,
        clientId: 'gw-hang',
        topics: topicsFor('v/gw-hang'),
        identity: { gatewayId: 'gw-hang', bootId: 'b', version: 'v', configHash: 'h' },
        logger: quietLogger(),
        clock: new FakeClock(),
        alarmsWaiting: () => alarms,
        random: () => 0.5,
      });
      cleanup(() => conn.stop(500));
      conn.start();
      await sleep(500);
      expect(conn.state).toBe('connecting');
      // A resident presses the panic button: the drain tells the connection (onAlarmWaiting).
      alarms = true;
      conn.alarmWaiting();
      conn.networkMayBeBack(); // the modem says so too
      // The alarm's own connect timeout is 2 s and its retry 200-400 ms: a second attempt by ~3 s.
      await sleep(6000);
      expect(conn.attempts, `attempts 6 s after the alarm (state ${conn.state})`).toBeGreaterThanOrEqual(2);
    },
  );
});
