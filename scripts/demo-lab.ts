/**
 * The demo's command line (`npm run demo -- --help`) and its lab mode: with `--lab` the broker,
 * the simulated village, its camera and modem stay up after the summary, with an agent started
 * again on the same config and data, so a county can point its own consumer at them; Ctrl-C ends it.
 */
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { Agent } from '../agent/agent.js';
import { topicsFor } from '../agent/uplink/topics.js';
import type { GatewayConfig } from '../config/schema/gateway-config.js';

export const DEMO_USAGE = `usage: npm run demo -- [--json] [--lab] [--help]
  (or: node dist/scripts/demo.js [flags])

A simulated village (Modbus panic buttons and doors, a gate camera, a GSM modem where socat is
installed) on an embedded MQTT broker standing in for the county; the uplink is cut mid-run;
a summary of what was produced, delivered and lost ends it, in well under a minute.

  --json   the summary's last line is JSON too
  --lab    after the summary, keep the broker, the village and an agent running, and print the
           broker URL, the gateway id and the topics a county's own consumer can subscribe to
           and command on; Ctrl-C ends it
  --help   this text
Exit code: 0 when nothing was lost and the delivery check passed, 1 otherwise, 2 for a wrong flag.`;

export interface DemoArgs {
  json: boolean;
  lab: boolean;
  help: boolean;
}

/** Throws (ERR_PARSE_ARGS_*) on an unknown flag or a value where none is taken. */
export function parseDemoArgs(argv: string[]): DemoArgs {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: { json: { type: 'boolean' }, lab: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  return { json: values.json === true, lab: values.lab === true, help: values.help === true };
}

/** What a county's consumer needs to know, as lines. */
export function labLines(brokerUrl: string, gatewayId: string, prefix: string): string[] {
  const t = topicsFor(prefix);
  return [
    'lab: the village keeps running until Ctrl-C',
    `  broker     ${brokerUrl} (no login)`,
    `  gateway    ${gatewayId}`,
    `  events     ${t.events} (JSON) and ${t.eventsBatch} (compact batches)`,
    `  health     ${t.health}; status (retained) ${t.status}; pictures ${prefix}/media/#`,
    `  commands   publish on ${t.command('<name>')}; replies on ${t.reply('<name>')}`,
    `  try        mosquitto_sub -L '${brokerUrl}/${prefix}/#' -v`,
    `             mosquitto_pub -L '${brokerUrl}/${t.command('ping')}' -m '{"id":"p1"}'`,
  ];
}

/** Starts an agent again on the demo's config and keeps it until SIGINT or SIGTERM. */
export async function runLab(o: {
  config: GatewayConfig;
  dataDir: string;
  logger: Logger;
  brokerUrl: string;
  say: (s: string) => void;
}): Promise<void> {
  const agent = new Agent({ config: o.config, configHash: 'demo', baseDir: o.dataDir, logger: o.logger });
  await agent.start();
  const prefix = o.config.mqtt.topicPrefix ?? `village/${o.config.gateway.id}`;
  for (const line of labLines(o.brokerUrl, o.config.gateway.id, prefix)) o.say(line);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  o.say('lab: stopping');
  await agent.stop();
}
