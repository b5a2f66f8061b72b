/** Every command the county may send, registered on the uplink's router with what each needs of the agent. */
import type { GatewayConfig } from '../../config/schema/gateway-config.js';
import type { OutputCommand } from '../../core/contracts/driver.js';
import type { EventInput, GatewayEvent } from '../../core/contracts/event.js';
import type { CommandRouter } from '../uplink/commands.js';
import { ackCommand } from './ack.js';
import { clearCommand } from './clear.js';
import { configApplyCommand, configGetCommand, type ConfigPushPort } from './config.js';
import { flowsApplyCommand, flowsGetCommand, type FlowsPushPort } from './flows.js';
import { leaveSafeModeCommand, type SafeModeControl } from './leave-safe-mode.js';
import { outputCommand } from './output.js';
import { pingCommand } from './ping.js';
import { pictureCommand, snapshotCommand } from './picture.js';
import type { MediaRequests } from '../media/media-requests.js';
import { reloadConfigCommand, type ReloadResult } from './reload-config.js';
import { sirenTestCommand } from './siren-test.js';
import { statusCommand } from './status.js';
import { logsCommand } from './logs.js';
import { deviceCommand } from './device.js';
import { rebootCommand, restartCommand } from './restart.js';
import { updateCommand, type UpdatePorts } from './update.js';
import type { UpdateStager } from '../update/stager.js';
import type { AgentRestart } from '../agent-options.js';
import type { LogRing } from '../diagnostics/log-ring.js';
import type { DeviceHistory } from '../diagnostics/device-history.js';
import type { DriverDescription } from '../../core/contracts/driver.js';

export interface CommandDeps {
  config: GatewayConfig;
  status: () => unknown;
  emit: (e: EventInput) => Promise<GatewayEvent>;
  write: (c: OutputCommand) => Promise<void>;
  acknowledge: Parameters<typeof ackCommand>[0];
  clear: Parameters<typeof clearCommand>[0];
  reloadConfig: (() => ReloadResult) | undefined;
  configPush: ConfigPushPort | undefined;
  flowsPush: FlowsPushPort | null;
  openAlerts: () => number;
  now: () => number;
  nodeRed: SafeModeControl | null;
  media: MediaRequests;
  logs: LogRing | null;
  devices: () => DriverDescription[];
  history: DeviceHistory;
  restart: AgentRestart | undefined;
  stager: UpdateStager;
  /** The update bundle pulled over the broker (agent/update/mqtt-source.ts). */
  mqttSource: UpdatePorts['mqttSource'];
}

export function registerCommands(router: CommandRouter, d: CommandDeps): void {
  const { config, emit, write } = d;
  router.onStale((command, id, why) => {
    const { code, message, expiredAt, judgedAt, clock } = why;
    emit({
      deviceId: config.gateway.id,
      type: 'command.stale',
      priority: 'normal',
      data: { command, id: id ?? null, code, message, expiredAt, judgedAt, clock },
    }).catch(() => undefined); // the reply says it too; a stopped agent or a full card is reported where it happens
  });
  router.onRefused((data) => {
    emit({ deviceId: config.gateway.id, type: 'command.refused', priority: 'normal', data }).catch(() => undefined); // as command.stale: the reply says it too
  });
  router.register('status', statusCommand(d.status));
  router.register(
    'siren-test',
    sirenTestCommand({ gatewayId: config.gateway.id, sirens: config.alarms.sirens, write, emit }),
  );
  router.register('reload-config', reloadConfigCommand(d.reloadConfig));
  router.register('config.get', configGetCommand(d.configPush));
  router.register('config.apply', configApplyCommand(d.configPush, d.openAlerts));
  router.register('flows.get', flowsGetCommand(d.flowsPush));
  router.register('flows.apply', flowsApplyCommand(d.flowsPush, d.openAlerts));
  router.register('ack', ackCommand(d.acknowledge));
  router.register('clear', clearCommand(d.clear));
  router.register('output', outputCommand({ devices: config.devices, write }));
  router.register('ping', pingCommand(d.now));
  router.register('leave-safe-mode', leaveSafeModeCommand(d.nodeRed));
  router.register('picture', pictureCommand(d.media));
  router.register('snapshot', snapshotCommand(d.media));
  router.register('logs', logsCommand(d.logs));
  router.register('device', deviceCommand(d.devices, d.history));
  router.register('restart', restartCommand({ gatewayId: config.gateway.id, emit, restart: d.restart }));
  router.register('reboot', rebootCommand());
  router.register(
    'update',
    updateCommand({
      dataDir: config.dataDir,
      stager: d.stager,
      mqttSource: d.mqttSource,
      openAlerts: d.openAlerts,
    }),
  );
}
