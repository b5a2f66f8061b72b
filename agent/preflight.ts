/**
 * What a config needs from this machine, checked before an agent is built from it: at
 * start-up (so an unusable data folder is a clear refusal, exit 2, not a crash or a spin),
 * and before a reload stops the agent that works (so a config that cannot run never
 * replaces one that does).
 */
import { accessSync, constants, existsSync, mkdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { GatewayConfig } from '../config/schema/gateway-config.js';
import { GatewayError, foreignCode } from '../core/kernel/errors.js';

/** Throws DATA_DIR_UNUSABLE naming the folder and why. */
export function checkDataDir(dataDir: string): void {
  const why = (what: string, err?: unknown) => {
    const code = foreignCode(err);
    return new GatewayError('DATA_DIR_UNUSABLE', `dataDir ${dataDir}: ${what}${code ? ` (${code})` : ''}`, {
      cause: err,
    });
  };
  // Before mkdir: a recursive mkdir under /proc spins in Node instead of failing (measured: 50% CPU, forever).
  if (/^\/(proc|sys)(\/|$)/.test(resolve(nearestExisting(dataDir))))
    throw why('is on a kernel file system (/proc, /sys)');
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (err) {
    throw why('cannot be created', err);
  }
  let st;
  try {
    st = statSync(dataDir);
  } catch (err) {
    throw why('cannot be read', err);
  }
  if (!st.isDirectory()) throw why('is not a folder');
  try {
    accessSync(dataDir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (err) {
    throw why('is not writable (read-only file system or permissions)', err);
  }
  if (/^\/(proc|sys)(\/|$)/.test(realpathSync(dataDir))) throw why('is on a kernel file system (/proc, /sys)');
}

/** The folder itself or its closest ancestor that exists, with links resolved. */
function nearestExisting(dir: string): string {
  let at = resolve(dir);
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  try {
    return realpathSync(at);
  } catch {
    return at;
  }
}

/**
 * Problems that keep `next` from running on this machine (as the running agent leaves it):
 * its data folder, and the serial ports it names (a reload must not swap a working config
 * for one whose ports are not there).
 */
export function preflightReload(next: GatewayConfig): string[] {
  const problems: string[] = [];
  try {
    checkDataDir(next.dataDir); // relative to the working folder, as the agent uses it
  } catch (err) {
    problems.push((err as Error).message);
  }
  next.buses.forEach((b, i) => {
    if (b.type === 'modbus-rtu' && !existsSync(b.path)) problems.push(`buses[${i}].path: ${b.path} does not exist`);
  });
  next.devices.forEach((d, i) => {
    if ((d.driver === 'serial' || d.driver === 'modem') && !existsSync(d.path))
      problems.push(`devices[${i}].path: ${d.path} does not exist`);
  });
  return problems;
}
