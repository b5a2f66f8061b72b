/** The lock-down Node-RED starts with, and what a flow may ask of the agent (checked in the agent, not the flow). */
import { describe, expect, it } from 'vitest';
import type { OutputCommand } from '../../core/contracts/driver.js';
import { FlowRequests } from '../../agent/nodered/requests.js';
import { buildSettings } from '../../flows/runtime/settings.js';
import { LogBudget } from '../../agent/nodered/log-budget.js';
import pino from 'pino';

describe('Node-RED settings', () => {
  const settings = buildSettings({
    options: {
      userDir: '/data/node-red',
      flowFile: 'flows.json',
      host: '127.0.0.1',
      port: 1880,
      credentialSecret: 'cs',
      users: [{ username: 'tech', password: 'pw' }],
      safeMode: false,
      httpNodeRoot: false,
      nodesDir: null,
      defaultFlows: null,
      logLevel: 'info',
    },
    users: [{ username: 'tech', passwordHash: '$2b$08$hash' }],
    nodesDir: '/app/flows/nodes',
    log: () => {},
  });

  it('are locked down: no telemetry, no installs but our own nodes, no projects, a login always', () => {
    expect(settings).toMatchObject({
      telemetry: { enabled: false, updateNotification: false },
      diagnostics: { enabled: false },
      functionExternalModules: false,
      httpNodeRoot: false,
      credentialSecret: 'cs',
      nodesDir: ['/app/flows/nodes'],
      // Core nodes that reach the OS or raw sockets: none loaded unless nodeRed.allowNodes names them.
      nodesExcludes: ['90-exec.js', '31-tcpin.js', '32-udp.js', '10-file.js', '23-watch.js'],
      externalModules: {
        autoInstall: false,
        palette: { allowInstall: false, allowUpload: false, allowList: ['node-red-contrib-village'], denyList: ['*'] },
        modules: { allowInstall: false },
      },
      editorTheme: { projects: { enabled: false }, tours: false },
      adminAuth: { type: 'credentials', users: [{ username: 'tech', password: '$2b$08$hash', permissions: '*' }] },
    });
    // The plain password never reaches Node-RED's settings, only its hash.
    expect(JSON.stringify(settings)).not.toContain('"pw"');
  });
});

describe('what a flow may ask', () => {
  const rig = (now: { t: number }) => {
    const writes: OutputCommand[] = [];
    const alerts: unknown[] = [];
    const r = new FlowRequests({
      gatewayId: 'gw',
      flowWritable: new Set(['board/siren']),
      ports: {
        write: async (c) => void writes.push(c),
        raiseAlert: async (a) => (alerts.push(a), `alert-${alerts.length}`),
        status: () => ({ ok: true }),
      },
      limits: { outputsPerSec: 2, outputBurst: 3, alertsPerMin: 6, alertBurst: 2 },
      now: () => now.t,
    });
    return { r, writes, alerts };
  };

  it('drives only flow-writable outputs, with valid arguments, at a limited rate', async () => {
    const now = { t: 0 };
    const { r, writes } = rig(now);
    await expect(r.handle('output', { device: 'board', output: 'door-lock', action: 'on' })).rejects.toMatchObject({
      code: 'NOT_FLOW_WRITABLE',
    });
    await expect(r.handle('output', { device: 'board', output: 'siren', action: 'blink' })).rejects.toMatchObject({
      code: 'INVALID_ARGS',
    });
    await expect(r.handle('output', { device: 'board', output: 'siren', action: 'pulse' })).rejects.toMatchObject({
      code: 'INVALID_PULSE',
    });
    for (let i = 0; i < 3; i++) await r.handle('output', { device: 'board', output: 'siren', action: 'off' });
    await expect(r.handle('output', { device: 'board', output: 'siren', action: 'off' })).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      retryable: true,
    });
    now.t += 500; // one token back at 2 a second
    await r.handle('output', { device: 'board', output: 'siren', action: 'pulse', durationMs: 3000 });
    expect(writes).toHaveLength(4);
    expect(writes.at(-1)).toEqual({ deviceId: 'board', output: 'siren', action: 'pulse', durationMs: 3000 });
    expect(r.refused).toBe(4);
  });

  it('raises alerts (the gateway as device by default) at a limited rate, and answers status', async () => {
    const now = { t: 0 };
    const { r, alerts } = rig(now);
    await expect(r.handle('alert', { message: '' })).rejects.toMatchObject({ code: 'INVALID_ARGS' });
    await expect(r.handle('alert', { message: 'x', priority: 'low' })).rejects.toMatchObject({ code: 'INVALID_ARGS' });
    expect(await r.handle('alert', { message: 'door held open' })).toEqual({ alertId: 'alert-1' });
    await r.handle('alert', { message: 'again', deviceId: 'store-door', priority: 'critical', sms: 'always' });
    await expect(r.handle('alert', { message: 'third' })).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect(alerts).toEqual([
      { message: 'door held open', deviceId: 'gw', priority: 'high', sms: 'fallback' },
      { message: 'again', deviceId: 'store-door', priority: 'critical', sms: 'always' },
    ]);
    now.t += 10_000; // one alert back at 6 a minute
    expect(await r.handle('alert', { message: 'later' })).toEqual({ alertId: 'alert-3' });
    for (let i = 0; i < 5; i++) expect(await r.handle('status', {})).toEqual({ ok: true });
    await expect(r.handle('status', {})).rejects.toMatchObject({ code: 'RATE_LIMITED' }); // 5 a second
    await expect(r.handle('reboot', {})).rejects.toMatchObject({ code: 'UNKNOWN_COMMAND' });
  });

  it("refuses an alert whose cause's type is not shaped like an event type (the county would match it against its catalogue)", async () => {
    const { r, alerts } = rig({ t: 0 });
    const cause = { id: 'e-1', type: 'Door Opened!', deviceId: 'store-door' };
    await expect(r.handle('alert', { message: 'door held open', cause })).rejects.toMatchObject({
      code: 'INVALID_ARGS',
      message: expect.stringMatching(/cause\.type must be an event type.*"Door Opened!"/),
    });
    await expect(r.handle('alert', { message: 'm', cause: { ...cause, type: 'door' } })).rejects.toMatchObject({
      code: 'INVALID_ARGS',
    });
    expect(r.refused).toBe(2);
    expect(alerts).toEqual([]);
    // Well shaped, it is passed on as given (a new rig: the refusals above took the alert burst).
    const fresh = rig({ t: 0 });
    await fresh.r.handle('alert', { message: 'door held open', cause: { ...cause, type: 'door.opened' } });
    expect(fresh.alerts).toEqual([expect.objectContaining({ cause: { ...cause, type: 'door.opened' } })]);
  });
});

describe("the child's log budget", () => {
  it('lets 20 lines a second through, then says once a minute how many it left out', () => {
    const lines: { msg: string; suppressed?: number }[] = [];
    const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    let now = 0;
    const budget = new LogBudget(logger, () => now);
    const taken = Array.from({ length: 100 }, () => budget.take()).filter(Boolean).length;
    expect(taken).toBe(20);
    now += 1000;
    expect(Array.from({ length: 100 }, () => budget.take()).filter(Boolean).length).toBe(20);
    expect(lines).toEqual([]);
    now += 60_000;
    expect(budget.take()).toBe(true);
    expect(lines).toEqual([expect.objectContaining({ suppressed: 160, msg: expect.stringMatching(/left out/) })]);
  });

  it('a snapshot: args checked before the agent is asked; its refusal reaches the flow; no port, no camera', async () => {
    const asked: [string, number][] = [];
    const r = new FlowRequests({
      gatewayId: 'gw',
      flowWritable: new Set(),
      ports: {
        write: async () => undefined,
        raiseAlert: async () => 'a',
        status: () => ({}),
        snapshot: async (camera, channel) => {
          if (camera === 'busy-cam') throw Object.assign(new Error('the next in 9 s'), { code: 'RATE_LIMITED' });
          asked.push([camera, channel]);
        },
      },
    });
    expect(await r.handle('snapshot', { camera: 'gate-cam' })).toEqual({ asked: true, camera: 'gate-cam' });
    expect(await r.handle('snapshot', { camera: 'gate-cam', channel: 2 })).toEqual({ asked: true, camera: 'gate-cam' });
    for (const bad of [
      {},
      { camera: '../x' },
      { camera: 'gate-cam', channel: 0 },
      { camera: 'gate-cam', channel: 1.5 },
    ])
      await expect(r.handle('snapshot', bad)).rejects.toMatchObject({ code: 'INVALID_ARGS' });
    await expect(r.handle('snapshot', { camera: 'busy-cam' })).rejects.toThrow('the next in 9 s');
    expect(asked).toEqual([
      ['gate-cam', 1],
      ['gate-cam', 2],
    ]);
    const none = new FlowRequests({
      gatewayId: 'gw',
      flowWritable: new Set(),
      ports: { write: async () => undefined, raiseAlert: async () => 'a', status: () => ({}) },
    });
    await expect(none.handle('snapshot', { camera: 'gate-cam' })).rejects.toMatchObject({ code: 'NO_CAMERA' });
  });
});
