/**
 * The apply step's probation: after the switch and the restart, the new release must show,
 * within the window, that it runs: a status file (status.json, rewritten every 5 s by the agent
 * in its runtimeDir, /run/village-gateway as installed, else in dataDir) written by the new
 * version after the switch, by a live process, with the county link up. Both folders are looked
 * in: the data folder's copy is rewritten only every 10 minutes when the RAM one is used. The file is the agent's; only these few fields are read, each checked.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const statusSchema = z.looseObject({
  writtenAt: z.string(),
  pid: z.number().int().positive(),
  version: z.string(),
  link: z.looseObject({ up: z.boolean() }),
});

export type Verdict = { healthy: true } | { healthy: false; reason: string };

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** One look at the status file: what it says about `version` since `since` (ms). */
export function look(dirs: readonly string[], version: string, since: number): 'healthy' | 'running' | 'none' {
  const seen = dirs.map((dir) => lookIn(dir, version, since));
  return seen.includes('healthy') ? 'healthy' : seen.includes('running') ? 'running' : 'none';
}

function lookIn(dir: string, version: string, since: number): 'healthy' | 'running' | 'none' {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8'));
  } catch {
    return 'none'; // absent, or torn mid-rename: the next look decides
  }
  const s = statusSchema.safeParse(raw);
  if (!s.success || s.data.version !== version || Date.parse(s.data.writtenAt) < since || !alive(s.data.pid))
    return 'none';
  return s.data.link.up ? 'healthy' : 'running';
}

/** Watches until healthy or the window ends; the reason says what was last seen. */
export async function watchProbation(
  dirs: readonly string[],
  version: string,
  since: number,
  windowMs: number,
  stepMs = 1000,
): Promise<Verdict> {
  let ran = false;
  for (;;) {
    const seen = look(dirs, version, since);
    if (seen === 'healthy') return { healthy: true };
    ran ||= seen === 'running';
    if (Date.now() - since >= windowMs) break;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  const sec = Math.round(windowMs / 1000);
  return {
    healthy: false,
    reason: ran
      ? `release ${version} ran but its county link was not up within ${sec} s`
      : `release ${version} did not start (no status from it within ${sec} s: it crashed or hung at start)`,
  };
}
