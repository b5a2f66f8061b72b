#!/usr/bin/env -S node --max-semi-space-size=2 --max-old-space-size=64 --optimize-for-size --no-opt --no-maglev
// V8 settings for a Pi-class gateway (run `node dist/agent/cli.js` to choose others): left to
// itself V8 lets garbage pile up to 150+ MB while a backlog drains; with the heap limits the
// agent stays under 80 MB draining a million events. --no-opt: no optimizing compiler (TurboFan);
// the agent mostly waits on I/O and SQLite, and TurboFan's compile memory and code were 10-14 MB
// of an 80-90 MB agent; a million-event drain took as long within the noise (docs/development.md, "Benchmarks").
// --no-maglev: Node 22+ (the release ships 24) adds Maglev, a second optimizing compiler that
// --no-opt leaves on: ~6 MB more idle on Node 24; Node 20 has it off already.
/** `village-gateway`: run the agent, check a config, look at the outbox and the devices. */
import { writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, type LoadedConfig } from '../config/load-config.js';
import {
  checkReload,
  keepLastGood,
  lastGoodFile,
  loadLastGood,
  loadWithFallback,
  type ReloadCheck,
} from './config-lifecycle.js';
import { HELP } from './cli-help.js';
import { checkDataDir } from './preflight.js';
import type { EventInput } from '../core/contracts/event.js';
import { formatProblem } from '../config/zod-problems.js';
import { Agent } from './agent.js';
import { GatewayError, errorMessage, foreignCode, failure } from '../core/kernel/errors.js';
import { UsageError } from './cli-usage.js';
import { createLogger } from './logger.js';
import { LogRing } from './diagnostics/log-ring.js';
import { onFatal } from './cli-fatal.js';
import { ServiceNotifier } from './service-notify.js';
import { VERSION } from './version.js';
import { spacedRestart } from './spaced-restart.js';
import { wirePush } from './push/wire-push.js';

const out = (s: string) => writeSync(1, s.endsWith('\n') ? s : `${s}\n`);
const err = (s: string) => writeSync(2, s.endsWith('\n') ? s : `${s}\n`);

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'editor') return (await import('./cli-commands.js')).editorCli(argv.slice(1));
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string', short: 'c' },
      'print-stored': { type: 'boolean' },
      'schema-only': { type: 'boolean' },
      json: { type: 'boolean' }, // also `demo --json` from older instructions reaches the pointer to npm run demo
      wide: { type: 'boolean' },
      lang: { type: 'string' },
      'door-per-day': { type: 'string' },
      'press-per-day': { type: 'string' },
      'readings-per-min': { type: 'string' },
      'pictures-per-day': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  const [cmd] = positionals;
  if (values.version) return (out(VERSION), 0);
  if (values.help || !cmd || cmd === 'help') return (out(HELP), cmd || values.help ? 0 : 2);
  const needConfig = () => {
    const file = values.config ?? process.env.VILLAGE_GATEWAY_CONFIG;
    if (!file) throw new UsageError(`${cmd} needs --config FILE`);
    return file;
  };
  if (cmd === 'run') return run(needConfig(), values['print-stored'] === true);
  if (cmd === 'demo')
    throw new UsageError(
      'the demo is not part of the agent: run `npm run demo` (node dist/scripts/demo.js) in a checkout',
    );
  // The other commands' code is loaded only for them: the running agent does not carry it.
  const code = await (await import('./cli-commands.js')).otherCommand(cmd, positionals, values, needConfig);
  if (code === null) throw new UsageError(`unknown command "${cmd}"\n\n${HELP}`);
  return code;
}

/** Errors that mean "will not start as configured" (exit 2, like an invalid config), not a crash. */
const REFUSALS = new Set(['DATA_DIR_LOCKED', 'DATA_DIR_UNUSABLE', 'HOST_UNRESOLVED']);

/**
 * Runs the agent until SIGINT/SIGTERM. A reload (the county's `reload-config`, or SIGHUP as
 * systemd's ExecReload sends) is validated and preflighted first, with the working agent
 * still running; only then is it stopped and the new one started. `gateway.config_applied`
 * comes from the new agent once it runs; if it cannot start, the previous config comes back
 * and says `gateway.config_rejected`. A file that does not validate at start-up falls back
 * to the last config that ran (see config-lifecycle.ts).
 */
async function run(file: string, printStored: boolean): Promise<number> {
  let { loaded, fallback } = loadWithFallback(file);
  checkDataDir(loaded.config.dataDir);
  const logRing = new LogRing(); // the county's `logs` reads it; it outlives every restart of the agent
  const logger = await createLogger(loaded.config.log.level, { ring: logRing });
  let next: LoadedConfig | null = null;
  const pendingConfig = () => next; // read through a function: it is set from callbacks
  let notice: EventInput | null = null;
  const gw = () => loaded.config.gateway.id;
  if (fallback) {
    logger.error(
      failure('CONFIG_INVALID', null, { problems: fallback.problems, using: fallback.from }),
      'config file invalid: running the last good config',
    );
    notice = {
      deviceId: gw(),
      type: 'gateway.config_fallback',
      priority: 'high',
      data: { problems: fallback.problems, using: fallback.from },
    };
  }
  let agent: Agent | null = null;
  let live: Agent | null = null; // started and not yet asked to stop: what the watchdog's heartbeat asks
  const notifier = new ServiceNotifier({
    logger,
    heartbeat: () => (live ? live.heartbeat() : 'the agent is starting, reloading or stopping'),
  });
  // What the running loop is asked to do. Kept until the loop waits for it, so a signal during
  // a start (or a reload's restart) is not lost: a stop is a stop, a reload is done after.
  let asked: 'signal' | 'reload' | null = null;
  let wake: () => void = () => {};
  const ask = (what: 'signal' | 'reload') => {
    if (asked !== 'signal') asked = what;
    wake();
  };
  let stopping = false;
  const stopOn = (signal: string) => {
    if (stopping) return void logger.info({ signal }, 'already stopping (the outbox is flushed before exit)');
    stopping = true;
    logger.info({ signal }, 'stopping');
    ask('signal');
  };
  let reloadTimer: NodeJS.Timeout | null = null;
  /** Checks the file; on success the agent restarts with it (after `delayMs`, so a reply can go out first). */
  const requestReload = (by: string, delayMs: number): ReloadCheck => {
    const res = checkReload(file);
    if (!res.ok) {
      logger.error(failure(res.code, null, { by, problems: res.problems }), 'reload refused: the running config stays');
      if (by === 'SIGHUP')
        void agent
          ?.emit({
            deviceId: gw(),
            type: 'gateway.config_rejected',
            priority: 'high',
            data: { by, code: res.code, problems: res.problems },
          })
          .catch((e: Error) => logger.error(failure('STORAGE_FAILED', e), 'gateway.config_rejected not stored'));
      return res;
    }
    next = res.next; // a later request replaces an earlier one that has not run yet
    restartIn(delayMs);
    return res;
  };
  const restartIn = (delayMs: number) => {
    if (reloadTimer) clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => ((reloadTimer = null), ask('reload')), delayMs);
  };
  // The county's `restart`: the same config again (or a reload still waiting to run), once the reply is out.
  const restart = spacedRestart((by) => (logger.info({ by }, 'restart asked for'), (next ??= loaded), restartIn(300)));
  const { push, probation, watched } = wirePush(file, logger, () => ({ loaded, agent }), requestReload);
  if (probation.atStart(loaded.config.dataDir)) ({ loaded, fallback } = loadWithFallback(file)); // a push crashed the agent
  process.on('SIGINT', () => stopOn('SIGINT'));
  process.on('SIGTERM', () => stopOn('SIGTERM'));
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reloading the config');
    requestReload('SIGHUP', 0);
  });
  const fatal = onFatal(logger, () => agent); // cli-fatal.ts
  process.once('uncaughtException', fatal);
  process.once('unhandledRejection', fatal);

  let previous: LoadedConfig | null = null;
  for (;;) {
    try {
      agent = new Agent({
        config: loaded.config,
        configHash: loaded.hash,
        baseDir: loaded.baseDir,
        logger,
        profiles: loaded.profiles,
        reloadConfig: () => {
          const res = requestReload('county', 300);
          return res.ok
            ? { ok: true, configHash: res.next.hash }
            : { ok: false, code: res.code, problems: res.problems };
        },
        restart,
        logRing,
        configPush: push,
      });
      if (printStored)
        agent.observe.onStored((events) => writeSync(1, events.map((e) => `stored ${e.seq} ${e.id}\n`).join('')));
      await agent.start();
    } catch (err) {
      await agent
        ?.stop()
        .catch((stopErr: unknown) =>
          logger.error(failure('STOP_FAILED', stopErr), 'the agent that could not start did not stop cleanly either'),
        );
      agent = null;
      if (!previous) {
        // At start-up (a reboot after a reload whose config validated but could not run): the last good config.
        const good = loadLastGood(file, loaded.hash, (why) =>
          logger.error(
            failure('CONFIG_INVALID', why, { file: lastGoodFile(file) }),
            'the last good config cannot be used either',
          ),
        );
        if (!good) throw err;
        logger.error(
          failure('CONFIG_CANNOT_RUN', err, { configHash: loaded.hash, using: good.hash }),
          'config failed to start: running the last good config',
        );
        notice = {
          deviceId: good.config.gateway.id,
          type: 'gateway.config_fallback',
          priority: 'high',
          data: { error: (err as Error).message, configHash: loaded.hash, using: lastGoodFile(file) },
        };
        loaded = good;
        fallback = { problems: [(err as Error).message], from: lastGoodFile(file) };
        continue;
      }
      logger.error(
        failure('CONFIG_CANNOT_RUN', err, { configHash: loaded.hash }),
        'the new config failed to start: going back to the previous one',
      );
      notice = {
        deviceId: previous.config.gateway.id,
        type: 'gateway.config_rejected',
        priority: 'high',
        data: { by: 'start', configHash: loaded.hash, error: (err as Error).message, running: previous.hash },
      };
      loaded = previous;
      previous = null;
      continue;
    }
    const notKept = fallback ? null : keepLastGood(loaded);
    if (notKept)
      logger.warn(
        failure('STATE_NOT_SAVED', notKept, { file: lastGoodFile(loaded.file) }),
        'last good config not updated; the previous one stays',
      );
    fallback = null;
    live = agent;
    notifier.ready(`running, backlog ${agent.observe.backlog().total.count}`);
    if (notice)
      await agent
        .emit(notice)
        .catch((err: Error) => logger.warn(failure('STORAGE_FAILED', err), 'config notice not stored'));
    notice = null;
    previous = null;
    probation.started(loaded.config.dataDir, loaded.hash, watched(agent));
    let reason: 'signal' | 'reload';
    for (;;) {
      if (!asked) await new Promise<void>((resolve) => (wake = resolve));
      reason = asked!;
      asked = null;
      if (reason === 'signal' || pendingConfig()) break; // a reload with nothing new to run keeps this agent
    }
    live = null;
    probation.stop();
    if (reason === 'signal') notifier.stopping();
    else notifier.reloading();
    await agent.stop();
    if (reason === 'signal') return 0;
    const upcoming = pendingConfig()!; // set whenever a reload was asked for (see above)
    logger.info({ configHash: upcoming.hash }, 'config reloaded: restarting');
    const same = upcoming === loaded; // a restart: nothing was applied
    notice = same
      ? null
      : {
          deviceId: upcoming.config.gateway.id,
          type: 'gateway.config_applied',
          priority: 'high',
          data: { configHash: upcoming.hash, previous: loaded.hash },
        };
    previous = loaded;
    loaded = upcoming;
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
    if (e instanceof UsageError || foreignCode(e)?.startsWith('ERR_PARSE_ARGS')) {
      err(errorMessage(e));
      process.exit(2);
    }
    err(`village-gateway: ${(e as Error).stack ?? String(e)}`);
    process.exit(1);
  },
);
