/**
 * The county's diagnostics, through a real broker to the real CLI: `logs`, `device`, `restart`
 * (an actuation command: it must carry an expiry), `reboot` (refused: the agent is unprivileged),
 * and health naming the devices that are down and why.
 */
import { describe, expect, it } from 'vitest';
import type { ReceivedEvent } from '../../scripts/county-subscriber.js';
import { AgentChild } from '../helpers/agent-child.js';
import { countyCommand } from '../helpers/county-command.js';
import { startCounty } from '../helpers/delivery.js';
import { startBoard } from '../helpers/field-peers.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { tcpBus, ioBoard } from '../helpers/village-config.js';
import { waitUntil } from '../helpers/wait.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

describe('diagnostics commands', () => {
  it(
    'logs, device, restart and reboot answer the county; health names the device that is down',
    { timeout: 60_000 },
    async () => {
      const { sim, board } = await startBoard(cleanup);
      // Nothing listens on port 1. (A free port from the ephemeral range would not do: a connect
      // retried to it can land on itself, TCP's simultaneous open, and the echo reads as an answer.)
      const deadPort = 1;
      const dir = tempDir();
      const file = AgentChild.writeConfig(dir, {
        version: 1,
        gateway: { id: 'gw-diag' },
        dataDir: `${dir}/data`,
        log: { level: 'info' },
        health: { intervalSec: 1 },
        buses: [tcpBus(sim.port), { ...tcpBus(deadPort, 200), id: 'gone' }],
        devices: [
          ioBoard({ id: 'io', pollMs: 100, inputs: { di1: { role: 'input' } } }),
          // An input to read: a board with none polls nothing, and shows online whatever its bus does.
          ioBoard({ id: 'far-board', bus: 'gone', pollMs: 500, inputs: { di1: { role: 'input' } } }),
        ],
        mqtt: {
          url: brokerRef.current.url,
          protocolVersion: 4,
          password: 'hunter2-secret',
          username: 'gw-diag',
          willDelaySec: 0,
          reconnect: { minMs: 100, maxMs: 1000 },
        },
      });
      const county = await startCounty(brokerRef.current.url, cleanup, 'county-diag');
      const events: ReceivedEvent[] = [];
      county.on('event', (ev: ReceivedEvent) => events.push(ev));
      const agent = new AgentChild(file).start();
      cleanup(() => agent.kill('SIGTERM'));

      // Health: the board nobody answers is named, with its driver's reason; ms beside seconds.
      await waitUntil(
        () =>
          events.some(
            (e) =>
              e.type === 'gateway.health' &&
              (e.data.devices as { offline?: { id: string }[] }).offline?.some((d) => d.id === 'far-board'),
          ),
        20_000,
        'a health event naming far-board',
      );
      const health = events.findLast((e) => e.type === 'gateway.health')!.data as {
        devices: {
          total: number;
          online: number;
          offline: { id: string; reason: string | null }[];
          offlineMore: number;
        };
        uptimeSec: number;
        uptimeMs: number;
      };
      expect(health.devices).toMatchObject({ total: 2, online: 1, offlineMore: 0 });
      // Every id the driver serves is named (the board and its input's own id), never the board that answers.
      expect(health.devices.offline.map((o) => o.id)).toContain('far-board');
      expect(health.devices.offline.map((o) => o.id)).not.toContain('io');
      for (const o of health.devices.offline) expect(o.reason).toEqual(expect.any(String));
      expect(Math.abs(health.uptimeMs / 1000 - health.uptimeSec)).toBeLessThanOrEqual(1);

      // device: any id the board serves (here its input's, as the input's events name it) gives
      // the board's description and that id's last events, the input change among them.
      board.set('di1', true);
      await waitUntil(() => events.some((e) => e.type.startsWith('input.')), 10_000, 'di1');
      const inputId = events.find((e) => e.type.startsWith('input.'))!.deviceId;
      const dev = await countyCommand(county, 'gw-diag', 'device', { id: 'd1', args: { id: inputId } });
      expect(dev.ok).toBe(true);
      const d = dev.result as { description: { online: boolean; deviceIds: string[] }; lastEvents: { type: string }[] };
      expect(d.description.online).toBe(true);
      expect(d.description.deviceIds).toContain('io');
      expect(d.lastEvents.some((e) => e.type.startsWith('input.'))).toBe(true);
      expect(d.lastEvents.length).toBeLessThanOrEqual(10);
      const none = await countyCommand(county, 'gw-diag', 'device', { id: 'd2', args: { id: 'nope' } });
      expect(none.error?.code).toBe('UNKNOWN_DEVICE');
      expect(none.error?.message).toContain('far-board');

      // logs: bounded, filtered by level, no secret.
      const logs = await countyCommand(county, 'gw-diag', 'logs', { id: 'l1', args: { lines: 200 } });
      expect(logs.ok).toBe(true);
      const l = logs.result as { lines: string[]; omitted: number };
      expect(l.lines.length).toBeGreaterThan(0);
      expect(l.lines.some((x) => x.includes('agent started'))).toBe(true);
      for (const x of l.lines) expect(x.length).toBeLessThanOrEqual(500);
      expect(JSON.stringify(logs)).not.toContain('hunter2');
      const warns = await countyCommand(county, 'gw-diag', 'logs', { id: 'l2', args: { level: 'warn' } });
      for (const x of (warns.result as { lines: string[] }).lines)
        expect(JSON.parse(x) as { level: number }).toMatchObject({ level: expect.any(Number) });
      expect((warns.result as { lines: string[] }).lines.every((x) => !x.includes('"level":30'))).toBe(true);
      const tooMany = await countyCommand(county, 'gw-diag', 'logs', { id: 'l3', args: { lines: 201 } });
      expect(tooMany.error?.code).toBe('INVALID_ARGS');

      // reboot: refused, with its own code.
      const reboot = await countyCommand(county, 'gw-diag', 'reboot', { id: 'b1' });
      expect(reboot.error?.code).toBe('REBOOT_UNAVAILABLE');

      // restart: refused without an expiry; with one, recorded, then a new boot, the same config.
      const noExpiry = await countyCommand(county, 'gw-diag', 'restart', { id: 'r0' });
      expect(noExpiry.error?.code).toBe('NO_EXPIRY');
      const boots = () => events.filter((e) => e.type === 'gateway.started');
      await waitUntil(() => boots().length === 1, 5000, 'the first boot');
      const restart = await countyCommand(county, 'gw-diag', 'restart', {
        id: 'r1',
        sentAt: Date.now(),
        args: { by: 'duty officer' },
      });
      expect(restart.ok).toBe(true);
      await waitUntil(() => boots().length === 2, 15_000, 'the agent to start again');
      const asked = events.find((e) => e.type === 'gateway.restart_requested')!;
      expect(asked.data).toEqual({ by: 'duty officer', command: 'r1', keyId: null });
      expect(boots()[1]!.data.configHash).toBe(boots()[0]!.data.configHash);
      expect(events.some((e) => e.type === 'gateway.config_applied')).toBe(false);
      expect(agent.running).toBe(true);
      // A second restart within the minute is refused, and nothing restarts: a flood cannot keep the alarms down.
      const again = await countyCommand(county, 'gw-diag', 'restart', { id: 'r2', sentAt: Date.now() });
      expect(again.error).toMatchObject({
        code: 'RATE_LIMITED',
        message: expect.stringMatching(/next restart in \d+ s/),
      });
      await new Promise((r) => setTimeout(r, 1000));
      expect(boots()).toHaveLength(2);
      expect(events.filter((e) => e.type === 'gateway.restart_requested')).toHaveLength(1);
    },
  );
});
