/**
 * The CLI's commands other than `run`: loaded by cli-main.ts only when one of them is asked for, so
 * that the running agent does not carry their code (plan, reports, the outbox reader, the
 * editor's requests: about 0.6 MB of an agent meant to idle near 60 MB; `--only rss-modules`).
 */
import { writeSync } from 'node:fs';
import { ConfigError, loadConfig } from '../config/load-config.js';
import { formatProblem } from '../config/zod-problems.js';
import { LANGUAGES } from '../core/contracts/languages.js';
import { devicesData, formatDevices, formatDevicesWide } from './devices-report.js';
import { flowsUnitDropIn } from './flows-network.js';
import { chooseLanguage, isLanguage, textsFor } from './i18n/texts.js';
import { inspectOutbox } from './outbox/inspect.js';
import { formatOutbox } from './outbox-report.js';
import { DEFAULT_ASSUMPTIONS, planConfig } from './plan.js';
import { formatPlan, formatPlanWide, planJson } from './plan-report.js';
import { formatStatus, statusReport } from './status-report.js';
import { UsageError } from './cli-usage.js';

export { editorCli } from './cli-editor.js';

const out = (s: string) => writeSync(1, s.endsWith('\n') ? s : `${s}\n`);
const err = (s: string) => writeSync(2, s.endsWith('\n') ? s : `${s}\n`);

/** The options cli-main.ts parsed (its parseArgs), as these commands read them. */
export interface CommandValues {
  config?: string;
  'schema-only'?: boolean;
  json?: boolean;
  wide?: boolean;
  lang?: string;
  'door-per-day'?: string;
  'press-per-day'?: string;
  'readings-per-min'?: string;
  'pictures-per-day'?: string;
}

/** Runs `cmd` (any but run, editor and help); the exit code, or null for a command this module does not know. */
export async function otherCommand(
  cmd: string,
  positionals: string[],
  values: CommandValues,
  needConfig: () => string,
): Promise<number | null> {
  switch (cmd) {
    case 'check-config':
      return checkConfig(positionals[1] ?? values.config, values['schema-only'] === true);
    case 'outbox':
      if (positionals[1] !== 'stats') throw new UsageError('usage: village-gateway outbox stats --config FILE');
      {
        // Read-only commands: the config's secrets are the running agent's business, not theirs.
        const stats = inspectOutbox(loadConfig(needConfig(), { schemaOnly: true }).config.dataDir);
        out(values.json ? JSON.stringify(stats, null, 2) : formatOutbox(stats));
        return 0;
      }
    case 'devices': {
      const report = devicesData(loadConfig(needConfig(), { schemaOnly: true }).config);
      out(
        values.json ? JSON.stringify(report, null, 2) : values.wide ? formatDevicesWide(report) : formatDevices(report),
      );
      return 0;
    }
    case 'plan':
      return plan(values, needConfig());
    case 'status': {
      if (values.lang !== undefined && !isLanguage(values.lang))
        throw new UsageError(`--lang must be ${LANGUAGES.join(' or ')} (got ${values.lang})`);
      const report = statusReport(loadConfig(needConfig(), { schemaOnly: true }).config);
      // --json is data, in no language; the text follows --lang, else LC_ALL / LC_MESSAGES / LANG.
      out(
        values.json ? JSON.stringify(report) : formatStatus(report, Date.now(), textsFor(chooseLanguage(values.lang))),
      );
      return report.agent.state === 'running' ? 0 : 3;
    }
    case 'flows-unit': {
      const file = needConfig();
      out((await flowsUnitDropIn(loadConfig(file, { schemaOnly: true }).config, file)).trimEnd());
      return 0;
    }
    default:
      return null;
  }
}

function plan(values: CommandValues, file: string): number {
  const { config } = loadConfig(file, { schemaOnly: true });
  const rate = (flag: 'door-per-day' | 'press-per-day' | 'readings-per-min' | 'pictures-per-day', fallback: number) => {
    const v = values[flag];
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${flag} must be a number >= 0 (got ${v})`);
    return n;
  };
  const assumptions = {
    ...DEFAULT_ASSUMPTIONS,
    doorOpeningsPerDay: rate('door-per-day', DEFAULT_ASSUMPTIONS.doorOpeningsPerDay),
    pressesPerDay: rate('press-per-day', DEFAULT_ASSUMPTIONS.pressesPerDay),
    readingsPerMin: rate('readings-per-min', DEFAULT_ASSUMPTIONS.readingsPerMin),
    alarmPicturesPerDay: rate('pictures-per-day', DEFAULT_ASSUMPTIONS.alarmPicturesPerDay),
  };
  const planned = planConfig(config, assumptions);
  out(
    values.json
      ? JSON.stringify(planJson(planned, config), null, 2)
      : values.wide
        ? formatPlanWide(planned, config)
        : formatPlan(planned, config),
  );
  return 0;
}

function checkConfig(file: string | undefined, schemaOnly: boolean): number {
  if (!file) throw new UsageError('usage: village-gateway check-config FILE');
  try {
    loadConfig(file, { schemaOnly }); // the file is read within the size and token limits either way
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    err(`${file}: invalid (${e.problems.length} problem${e.problems.length === 1 ? '' : 's'})`);
    for (const p of e.problems) err(`  ${formatProblem(p)}`);
    return 2;
  }
  out(`${file}: valid`);
  return 0;
}
