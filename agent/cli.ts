#!/usr/bin/env -S node --max-semi-space-size=2 --max-old-space-size=64 --optimize-for-size
// V8 heap settings for a Pi-class gateway (run `node dist/agent/cli.js` to choose others): left
// to itself V8 lets garbage pile up to 150+ MB while a backlog drains; with these the agent
// stays under 100 MB draining a million events (see README, benchmarks).
/** `village-gateway`: run the agent, check a config, look at the outbox, run the demo. */
import { writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, parseConfigText, resolveProfiles, validateConfig, type LoadedConfig } from '../config/load-config.js';
import { dirname, resolve } from 'node:path';
import { formatProblem } from '../config/zod-problems.js';
import { readFileSync } from 'node:fs';
import { Agent } from './agent.js';
import { GatewayError } from './contracts/driver.js';
import { createLogger } from './logger.js';
import { inspectOutbox } from './outbox/inspect.js';
import { devicesReport } from './devices-report.js';
import { VERSION } from './version.js';

const HELP = `village-gateway ${VERSION}: edge agent for village early-warning gateways

Usage:
  village-gateway run --config FILE [--print-stored]
      Run the agent. --print-stored prints "stored <seq> <id>" for each event once it is on disk.
  village-gateway check-config FILE [--schema-only]
      Validate a config: exit 0 when valid, else exit 2 and print every problem with its path.
      --schema-only skips checks of secrets and certificate files (for checking off the gateway).
  village-gateway outbox stats --config FILE
      Backlog per priority, oldest event, shed counters (read-only; safe while the agent runs).
  village-gateway devices --config FILE
      Each device: driver, transport, online, last seen, errors (from the running agent's snapshot).
  village-gateway demo [--json]
      A simulated village against an embedded broker, with an uplink cut mid-run; prints a summary.
  village-gateway --help | --version
`;

const out = (s: string) => writeSync(1, s.endsWith('\n') ? s : `${s}\n`);
const err = (s: string) => writeSync(2, s.endsWith('\n') ? s : `${s}\n`);

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string', short: 'c' },
      json: { type: 'boolean' },
      'print-stored': { type: 'boolean' },
      'schema-only': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  const [cmd, sub] = positionals;
  if (values.version) return out(VERSION), 0;
  if (values.help || !cmd || cmd === 'help') return out(HELP), cmd || values.help ? 0 : 2;
  const needConfig = () => {
    if (!values.config) throw new UsageError(`${cmd} needs --config FILE`);
    return values.config;
  };
  switch (cmd) {
    case 'check-config':
      return checkConfig(positionals[1] ?? values.config, values['schema-only'] === true);
    case 'run':
      return run(needConfig(), values['print-stored'] === true);
    case 'outbox':
      if (sub !== 'stats') throw new UsageError('usage: village-gateway outbox stats --config FILE');
      out(JSON.stringify(inspectOutbox(loadConfig(needConfig()).config.dataDir), null, 2));
      return 0;
    case 'devices':
      out(devicesReport(loadConfig(needConfig()).config));
      return 0;
    case 'demo': {
      const { runDemo } = await import('../scripts/demo.js');
      return runDemo({ json: values.json === true });
    }
    default:
      throw new UsageError(`unknown command "${cmd}"\n\n${HELP}`);
  }
}

class UsageError extends Error {}

/** Errors that mean "will not start as configured" (exit 2, like an invalid config), not a crash. */
const REFUSALS = new Set(['DATA_DIR_LOCKED']);

function checkConfig(file: string | undefined, schemaOnly: boolean): number {
  if (!file) throw new UsageError('usage: village-gateway check-config FILE');
  try {
    if (schemaOnly) {
      const config = validateConfig(parseConfigText(readFileSync(file, 'utf8'), file), file);
      const { problems } = resolveProfiles(config, dirname(resolve(file)));
      if (problems.length > 0) throw new ConfigError(file, problems);
    }
    else loadConfig(file);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    err(`${file}: invalid (${e.problems.length} problem${e.problems.length === 1 ? '' : 's'})`);
    for (const p of e.problems) err(`  ${formatProblem(p)}`);
    return 2;
  }
  out(`${file}: valid`);
  return 0;
}

/**
 * Runs the agent until a signal. `reload-config` (from the county) validates the file first;
 * only a valid one replaces the running agent, over the same data folder.
 */
async function run(file: string, printStored: boolean): Promise<number> {
  let loaded = loadConfig(file);
  const logger = await createLogger(loaded.config.log.level);
  let next: LoadedConfig | null = null;
  let wake: (reason: 'signal' | 'reload') => void = () => {};
  const stopOn = (signal: string) => {
    logger.info({ signal }, 'stopping');
    wake('signal');
  };
  process.once('SIGINT', () => stopOn('SIGINT'));
  process.once('SIGTERM', () => stopOn('SIGTERM'));
  for (;;) {
    const agent = new Agent({
      config: loaded.config, configHash: loaded.hash, baseDir: loaded.baseDir, logger, profiles: loaded.profiles,
      reloadConfig: () => {
        try {
          next = loadConfig(file);
        } catch (e) {
          if (e instanceof ConfigError) return { ok: false, problems: e.problems.map(formatProblem) };
          throw e;
        }
        setTimeout(() => wake('reload'), 300); // let the reply go out first
        return { ok: true, configHash: next.hash };
      },
    });
    if (printStored) agent.outbox.on('stored', (events) => writeSync(1, events.map((e) => `stored ${e.seq} ${e.id}\n`).join('')));
    const why = new Promise<'signal' | 'reload'>((resolve) => (wake = resolve));
    await agent.start();
    const reason = await why;
    await agent.stop();
    if (reason === 'signal' || !next) return 0;
    logger.info({ configHash: (next as LoadedConfig).hash }, 'config reloaded');
    loaded = next;
    next = null;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof ConfigError) {
      err(`${e.file}: invalid (${e.problems.length} problem${e.problems.length === 1 ? '' : 's'})`);
      for (const p of e.problems) err(`  ${formatProblem(p)}`);
      process.exit(2);
    }
    if (e instanceof GatewayError && REFUSALS.has(e.code)) {
      err(`village-gateway: ${e.message}`);
      process.exit(2);
    }
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      err((e as Error).message);
      process.exit(2);
    }
    err(`village-gateway: ${(e as Error).stack ?? String(e)}`);
    process.exit(1);
  },
);
