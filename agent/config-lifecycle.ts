/**
 * Which config the agent runs, so that no file can brick a gateway: the last config that
 * started is kept beside the file (`<file>.last-good`); a file that does not validate at
 * start-up falls back to it (reported as `gateway.config_fallback`); a reload is validated
 * and preflighted before the working agent stops, and a new config that fails to start
 * anyway gives way to the previous one (`gateway.config_rejected`).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { ConfigError, loadConfig, type LoadedConfig } from '../config/load-config.js';
import { formatProblem } from '../config/zod-problems.js';
import { writeFileDurably } from './durable-file.js';
import { preflightReload } from './preflight.js';
import { errorMessage } from '../core/kernel/errors.js';

export const lastGoodFile = (file: string) => `${file}.last-good`;

export interface Fallback {
  problems: string[];
  from: string;
}

/** The config file, or the last good one when the file is invalid (and a last good one exists). */
export function loadWithFallback(file: string): { loaded: LoadedConfig; fallback: Fallback | null } {
  try {
    return { loaded: loadConfig(file), fallback: null };
  } catch (err) {
    const backup = lastGoodFile(file);
    if (!(err instanceof ConfigError) || !existsSync(backup)) throw err;
    let loaded: LoadedConfig;
    try {
      loaded = loadConfig(backup);
    } catch (backupErr) {
      // The technician's problem is the file they gave: name it first; the last good one is
      // the afterthought (it usually shares the cause, e.g. a secret file that is gone).
      if (!(backupErr instanceof ConfigError)) throw backupErr;
      const also = backupErr.problems.map((p) => `  ${formatProblem(p)}`).join('\n');
      throw new ConfigError(file, [
        ...err.problems,
        { path: '', message: `the last good config ${backup} cannot run either:\n${also}` },
      ]);
    }
    return {
      loaded: { ...loaded, file },
      fallback: { problems: boundedProblems(err.problems.map(formatProblem)), from: backup },
    };
  }
}

/**
 * The last good config, if there is one and it is not the config with `notHash` (which just
 * failed). `unusable` says why a last good file that exists could not be used, for the log.
 */
export function loadLastGood(
  file: string,
  notHash: string,
  unusable: (why: string) => void = () => {},
): LoadedConfig | null {
  const backup = lastGoodFile(file);
  if (!existsSync(backup)) return null;
  try {
    const good = loadConfig(backup);
    if (good.hash === notHash) return null;
    return { ...good, file };
  } catch (err) {
    unusable(errorMessage(err));
    return null;
  }
}

/**
 * Keeps the running config's text as the last good one (only if the file still holds that
 * text). Returns why it could not (a full or read-only card) for the caller to log: the
 * previous last-good file then stays, which is still a config that ran.
 */
export function keepLastGood(loaded: LoadedConfig): string | null {
  try {
    const text = readFileSync(loaded.file, 'utf8');
    if (createHash('sha256').update(text).digest('hex').slice(0, 12) !== loaded.hash) return null;
    if (existsSync(lastGoodFile(loaded.file)) && readFileSync(lastGoodFile(loaded.file), 'utf8') === text) return null;
    writeFileDurably(lastGoodFile(loaded.file), text);
    return null;
  } catch (err) {
    return errorMessage(err);
  }
}

export type ReloadCheck =
  { ok: true; next: LoadedConfig } | { ok: false; code: 'CONFIG_INVALID' | 'CONFIG_CANNOT_RUN'; problems: string[] };

/** What a refused reload reports at most (the log, the command's reply, gateway.config_rejected). */
export const PROBLEMS_SHOWN = 20;
const PROBLEM_CHARS = 300;

/**
 * A refused config's problems, bounded: a config with thousands of wrong entries must not make
 * a log line, a reply or an event too big for the county (refused whole as EVENT_UNSENDABLE).
 * `check-config` on the gateway still prints them all.
 */
export function boundedProblems(problems: string[]): string[] {
  const shown = problems
    .slice(0, PROBLEMS_SHOWN)
    .map((p) => (p.length > PROBLEM_CHARS ? `${p.slice(0, PROBLEM_CHARS - 1)}…` : p));
  const more = problems.length - shown.length;
  return more > 0 ? [...shown, `… and ${more} more (check-config on the gateway prints them all)`] : shown;
}

/** Validates the file and what it needs from this machine, without touching the running agent. */
export function checkReload(file: string): ReloadCheck {
  let next: LoadedConfig;
  try {
    next = loadConfig(file);
  } catch (e) {
    const problems = e instanceof ConfigError ? e.problems.map(formatProblem) : [(e as Error).message];
    return { ok: false, code: 'CONFIG_INVALID', problems: boundedProblems(problems) };
  }
  const problems = preflightReload(next.config);
  return problems.length > 0
    ? { ok: false, code: 'CONFIG_CANNOT_RUN', problems: boundedProblems(problems) }
    : { ok: true, next };
}
