/** `village-gateway --help`: every command's synopsis (the technician's page lists the same, a test says so). */
import { EDITOR_PASSWORD_MAX_BYTES, EDITOR_PASSWORD_MIN } from '../config/schema/gateway-config.js';
import { VERSION } from './version.js';

/** Exit code when whoever runs the command may not write the data folder's editor files. */
export const EXIT_NOT_PERMITTED = 4;

/** The editor's commands (cli-editor.ts): here, so that --help does not load the editor's code. */
export const EDITOR_HELP = `  village-gateway editor unlock --config FILE
      Lift every block the editor put on clients after failed logins.
  village-gateway editor safe-mode off --config FILE
      Leave a Node-RED crash loop's safe mode: the counts cleared, the flows started again.
  village-gateway editor password --config FILE [--user NAME] [--use-config]
      Reset an editor user's password (default: the config's first user) to the first line of
      standard input (at least ${EDITOR_PASSWORD_MIN} characters, at most ${EDITOR_PASSWORD_MAX_BYTES} bytes), kept hashed in the data folder; it
      replaces the config's password until --use-config. Node-RED restarts to take it.
      Exit 0 done or filed, 2 usage, ${EXIT_NOT_PERMITTED} not permitted to write the data folder's editor files.
`;

export const HELP = `village-gateway ${VERSION}: edge agent for village early-warning gateways

Usage:
  village-gateway run --config FILE [--print-stored]
      Run the agent. --print-stored prints "stored <seq> <id>" for each event once it is on disk.
  village-gateway check-config FILE [--schema-only]
      Validate a config: exit 0 when valid, else exit 2 and print every problem with its path.
      --schema-only skips checks of secrets and certificate files (for checking off the gateway).
  village-gateway outbox stats --config FILE [--json]
      Backlog per priority, oldest event, shed counters (read-only; safe while the agent runs).
  village-gateway devices --config FILE [--wide | --json]
      Each device: online, last seen, how it is reached, errors, why it is down (from the running
      agent's snapshot; says so when the agent is not running). 40 columns; --wide: a line a device.
  Read-only commands (outbox stats, devices, plan, status) need no secrets.
  village-gateway plan --config FILE [--wide | --json] [--door-per-day N] [--press-per-day N] [--readings-per-min N]
      Estimate the uplink bytes a month of the config's devices, health and cameras' pictures with
      its wire settings (mqtt.wire, media.upload), and warn when one setting makes most of them.
      40 columns; --wide: as JSON and as sent, a column each. The options set what the config
      cannot say (defaults 10, 0.2, 1); --pictures-per-day N: alarm pictures a day per camera
      (default 3, of 50 KB).
  village-gateway status --config FILE [--json] [--lang LANG]
      For a technician on site (40 columns): agent, link, last county contact, backlog, alarms, devices.
      --lang zh-CN (or LANG/LC_ALL zh_CN.*): in Chinese; en: in English, the default. --json: data, no language.
  village-gateway flows-unit --config FILE
      Print the systemd drop-in that keeps the flows' process off the Modbus TCP buses (IPAddressDeny).
${EDITOR_HELP}  --config defaults to $VILLAGE_GATEWAY_CONFIG (the installed command sets it).
  village-gateway --help | --version
`;
