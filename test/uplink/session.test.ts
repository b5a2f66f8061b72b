/** MQTT 5 behaviour against a real Mosquitto: last will, TLS with client certificates, persistent session. */
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import { CountySubscriber } from '../../scripts/county-subscriber.js';
import { Mosquitto } from '../../scripts/brokers/mosquitto.js';
import { TcpProxy } from '../../scripts/weak-link/tcp-proxy.js';
import { AgentChild } from '../helpers/agent-child.js';
import { requireMosquitto } from '../helpers/broker.js';
import { useTlsBroker } from '../helpers/certs.js';
import { testConfig } from '../helpers/agent-config.js';
import { DeliveryCheck } from '../helpers/delivery.js';
import { quietLogger } from '../helpers/quiet-logger.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const tls = useTlsBroker();

describe('MQTT 5 session with Mosquitto', () => {
  it('publishes the last will (retained offline) when the agent is killed -9', async () => {
    const dir = tempDir();
    const file = AgentChild.writeConfig(dir, {
      version: 1,
      gateway: { id: 'gw-will' },
      dataDir: `${dir}/data`,
      log: { level: 'warn' },
      mqtt: { url: tls.broker.url, protocolVersion: 5, willDelaySec: 0, reconnect: { minMs: 100, maxMs: 1000 } },
    });
    const statuses: Record<string, unknown>[] = [];
    const sub = new CountySubscriber({ url: tls.broker.url, clientId: 'county-will', protocolVersion: 5 });
    sub.on('status', (_t, b) => statuses.push(b as Record<string, unknown>));
    await sub.start();
    const agent = new AgentChild(file).start();
    const check = new DeliveryCheck(sub).watchProcess(agent);
    await sub
      .waitFor(() => statuses.some((s) => s.state === 'online'), 10_000)
      .catch((err: Error) => {
        throw new Error(`${err.message}\nagent output:\n${agent.output}`);
      });
    await check.expectAllDelivered(); // its gateway.started, before the power cut
    await agent.kill('SIGKILL');
    await sub.waitFor(() => statuses.some((s) => s.state === 'offline'), 10_000);
    expect(statuses.at(-1)).toMatchObject({ state: 'offline', reason: 'connection lost', gatewayId: 'gw-will' });
    // Retained: a newcomer sees offline too.
    const late: Record<string, unknown>[] = [];
    const sub2 = new CountySubscriber({ url: tls.broker.url, clientId: 'county-will-late' });
    sub2.on('status', (_t, b) => late.push(b as Record<string, unknown>));
    await sub2.start();
    await sub2.waitFor(() => late.length > 0, 5000);
    expect(late[0]).toMatchObject({ state: 'offline', gatewayId: 'gw-will' });
    await sub.stop();
    await sub2.stop();
  });

  it('connects over TLS with a client certificate; a certificate from another CA is refused', async () => {
    const dir = tempDir();
    const sub = await new CountySubscriber({ url: tls.broker.url, clientId: 'county-tls' }).start();
    const good = testConfig(tls.broker.tlsUrl, dir, {
      gateway: { id: 'gw-tls' },
      mqtt: { protocolVersion: 5, tls: { ca: tls.certs.ca, cert: tls.certs.clientCert, key: tls.certs.clientKey } },
    });
    const agent = new Agent({ config: good, configHash: 'x', baseDir: dir, logger: quietLogger() });
    const check = new DeliveryCheck(sub).watch(agent);
    await agent.open(); // the outbox, for an alarm queued before the link starts
    const ev = await agent.emit({
      deviceId: 'btn',
      type: 'alarm.pressed',
      priority: 'critical',
      data: { input: 'in1', active: true },
    });
    await agent.start();
    await sub.waitFor(() => sub.events.has(ev.id), 10_000);
    await check.expectAllDelivered();
    await agent.stop();

    const dir2 = tempDir();
    const rogue = testConfig(tls.broker.tlsUrl, dir2, {
      gateway: { id: 'gw-rogue' },
      mqtt: { protocolVersion: 5, tls: { ca: tls.certs.ca, cert: tls.certs.rogueCert, key: tls.certs.rogueKey } },
    });
    const bad = new Agent({ config: rogue, configHash: 'x', baseDir: dir2, logger: quietLogger() });
    check.watch(bad);
    await bad.open();
    const kept = await bad.emit({
      deviceId: 'btn',
      type: 'alarm.pressed',
      priority: 'critical',
      data: { input: 'in1', active: true },
    });
    await bad.start();
    await waitUntil(() => bad.observe.link().lastError !== null, 10_000, 'a TLS error');
    expect(bad.observe.link().up).toBe(false);
    expect(sub.events.has(kept.id)).toBe(false);
    expect(bad.observe.backlog().total.count).toBeGreaterThanOrEqual(1); // kept for when the certificate is fixed
    await bad.stop();
    // The certificate is fixed: what the refused boot kept (its alarm, its gateway.started) goes out now.
    const fixed = new Agent({
      config: { ...rogue, mqtt: good.mqtt },
      configHash: 'x',
      baseDir: dir2,
      logger: quietLogger(),
    });
    check.watch(fixed);
    await fixed.start();
    await sub.waitFor(() => sub.events.has(kept.id), 10_000);
    await check.expectAllDelivered();
    await fixed.stop();
    await sub.stop();
  });

  it('keeps retrying after a refused CONNACK (bad password), with backoff, until the broker accepts it', async () => {
    const dir = tempDir();
    const users = { 'gw-auth': 'right-password' };
    const locked = await new Mosquitto(requireMosquitto(), { users }).start();
    // Through a link we can cut, so the county is listening on the fixed broker before the gateway gets in.
    const link = await new TcpProxy({ targetPort: locked.port }).start();
    const config = testConfig(link.url, dir, {
      gateway: { id: 'gw-auth' },
      mqtt: { protocolVersion: 5, username: 'gw-auth', password: 'wrong-password' },
    });
    const agent = new Agent({ config, configHash: 'x', baseDir: dir, logger: quietLogger() });
    const check = new DeliveryCheck().watch(agent);
    await agent.start();
    await waitUntil(() => agent.observe.link().attempts >= 3, 10_000, 'three attempts');
    expect(agent.observe.link().lastError).toMatch(/Bad User Name or Password|Not authorized/i);
    expect(agent.observe.link().up).toBe(false);
    // The county fixes the account to what the gateway has: the next attempt gets in.
    link.cut();
    await locked.stop();
    const fixed = new Mosquitto(requireMosquitto(), { users: { 'gw-auth': 'wrong-password' } });
    fixed.port = locked.port;
    await fixed.start();
    const sub = await new CountySubscriber({
      url: fixed.url,
      clientId: 'county-auth',
      mqttOptions: { username: 'gw-auth', password: 'wrong-password' },
    }).start();
    check.attach(sub);
    link.restore();
    await waitUntil(() => agent.observe.link().up, 10_000, 'the uplink after the fix');
    await check.expectAllDelivered(); // what was stored while the broker refused it
    await agent.stop();
    await sub.stop();
    await link.stop();
    await fixed.dispose();
    await locked.dispose();
  });

  it('receives commands the county sent while the gateway was offline, replying with correlation data', async () => {
    const dir = tempDir();
    const config = testConfig(tls.broker.url, dir, { gateway: { id: 'gw-offline-cmd' }, mqtt: { protocolVersion: 5 } });
    const sub = await new CountySubscriber({
      url: tls.broker.url,
      clientId: 'county-offline-events',
      protocolVersion: 5,
    }).start();
    const first = new Agent({ config, configHash: 'x', baseDir: dir, logger: quietLogger() });
    const check = new DeliveryCheck(sub).watch(first);
    await first.start();
    await waitUntil(() => first.observe.link().up, 5000, 'uplink');

    const county = await mqtt.connectAsync(tls.broker.url, { protocolVersion: 5, clientId: 'county-cmd-sender' });
    county.on('error', (err) => console.error(`county sender: ${err.message}`)); // then the replies below go missing
    const replies: { payload: Record<string, unknown>; correlation?: string }[] = [];
    let probed = false;
    await county.subscribeAsync('village/gw-offline-cmd/cmd-reply/county-7', { qos: 1 });
    await county.subscribeAsync('village/gw-offline-cmd/cmd-reply/ping', { qos: 1 });
    county.on('message', (topic, payload, packet) => {
      if (topic.endsWith('/ping')) probed ||= JSON.parse(payload.toString()).id === 'probe';
      else
        replies.push({
          payload: JSON.parse(payload.toString()),
          correlation: packet.properties?.correlationData?.toString(),
        });
    });
    // The gateway's command subscription is in place once it answers one.
    await county.publishAsync('village/gw-offline-cmd/cmd/ping', JSON.stringify({ id: 'probe' }), { qos: 1 });
    await waitUntil(() => probed, 5000, 'the reply to a ping while online');
    await first.stop(); // gateway goes away; its session stays on the broker

    await county.publishAsync('village/gw-offline-cmd/cmd/ping', JSON.stringify({ id: 'while-offline' }), {
      qos: 1,
      properties: {
        responseTopic: 'village/gw-offline-cmd/cmd-reply/county-7',
        correlationData: Buffer.from('corr-42'),
      }, // under the gateway's reply namespace
    });

    const second = new Agent({ config, configHash: 'x', baseDir: dir, logger: quietLogger() });
    check.watch(second);
    await second.start();
    await waitUntil(() => replies.length > 0, 10_000, 'the reply to the queued command');
    expect(replies[0]).toMatchObject({
      payload: { id: 'while-offline', ok: true, command: 'ping' },
      correlation: 'corr-42',
    });
    await check.expectAllDelivered(); // both boots
    await second.stop();
    await county.endAsync();
    await sub.stop();
  });
});
