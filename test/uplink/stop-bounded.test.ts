/**
 * Uplink.stop() against a broker that never answers: Mosquitto frozen (SIGSTOP) with its
 * sockets open, so the offline status is never acknowledged, the DISCONNECT never read and
 * the socket never closed from the far side. The agent's stop must not wait on it: the
 * uplink gives up within its limit and lets go of the socket.
 */
import { describe, expect, it } from 'vitest';
import { PRIORITIES } from '../../core/contracts/event.js';
import { Outbox } from '../../agent/outbox/outbox.js';
import { Uplink } from '../../agent/uplink/uplink.js';
import { testConfig } from '../helpers/agent-config.js';
import { eventMaker } from '../helpers/events.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();
/** TCP sockets this process holds (the broker runs in a child process: these are the uplink's). */
const tcpSockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;

/** A started uplink over a real outbox, and a way to freeze its broker until the test ends. */
async function frozenUplink(when: 'up' | 'up-with-inflight' | 'connecting') {
  const broker = brokerRef.current;
  if (!broker.mosquitto) throw new Error('this test freezes a real Mosquitto (SIGSTOP): install mosquitto');
  const mosquitto = broker.mosquitto;
  const dir = tempDir();
  const config = testConfig(broker.url, dir, { mqtt: { keepaliveSec: 60, connectTimeoutMs: 30_000 } });
  const outbox = new Outbox({ dir, config: config.outbox });
  cleanup(() => outbox.close());
  const uplink = new Uplink({
    config: config.mqtt,
    baseDir: dir,
    gatewayId: 'gw-stop',
    identity: { bootId: 'b', version: 'v', configHash: 'h' },
    outbox,
    logger: quietLogger(),
  });
  let frozen = false;
  const freeze = () => {
    mosquitto.signal('SIGSTOP');
    frozen = true;
  };
  cleanup(() => frozen && mosquitto.signal('SIGCONT'));
  if (when === 'connecting') freeze(); // the TCP connect succeeds (the kernel accepts), the CONNACK never comes
  uplink.start();
  if (when !== 'connecting') {
    await waitUntil(() => uplink.isUp, 10_000, 'the uplink');
    freeze();
    if (when === 'up-with-inflight') {
      const make = eventMaker(dir);
      for (let i = 0; i < 5; i++) await outbox.put(make(PRIORITIES[i % PRIORITIES.length]!));
      await waitUntil(() => uplink.stats().inflight > 0, 5000, 'publishes in flight');
    }
  } else {
    await waitUntil(() => uplink.stats().attempts >= 1, 5000, 'a connection attempt');
    await new Promise((r) => setTimeout(r, 200)); // the socket is open, CONNECT written
  }
  return uplink;
}

describe('Uplink.stop() with a broker that never answers', () => {
  for (const when of ['up', 'up-with-inflight', 'connecting'] as const) {
    it(`returns within its limit (frozen while ${when})`, { timeout: 20_000 }, async () => {
      await waitUntil(() => tcpSockets() === 0, 2000, "the broker helper's port probe closed");
      const uplink = await frozenUplink(when);
      expect(tcpSockets()).toBe(1);
      const t0 = performance.now();
      await uplink.stop();
      const tookMs = performance.now() - t0;
      console.log(`stop with the broker frozen (${when}): ${Math.round(tookMs)} ms`);
      expect(tookMs).toBeLessThan(Uplink.STOP_LIMIT_MS + 500);
      expect(uplink.stats().state).toBe('stopped');
      await waitUntil(() => tcpSockets() === 0, 1000, 'the socket to the frozen broker let go');
    });
  }
});
