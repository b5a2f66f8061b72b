/**
 * Can the flows' user load the child's code? As root the child runs as another user (flows-user.ts);
 * a checkout under a 0700 folder (a fresh clone in a mktemp folder, a home directory) stops it from
 * even reading child.js, and Node-RED's start then only times out with nothing said. Checked before
 * spawning from the folders' mode bits: owner, group, then others (supplementary groups are not
 * counted, so a folder open only to one of them is reported too: install under /opt instead).
 */
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, parse } from 'node:path';
import { GatewayError } from '../../core/kernel/errors.js';
import type { FlowsUser } from './flows-user.js';

/** The first folder on the way to `file` that `user` cannot enter, or the file itself if it cannot read it; null: reachable. */
export function blockedFor(file: string, user: FlowsUser): string | null {
  const allows = (path: string, bit: number): boolean => {
    const st = statSync(path);
    const shift = st.uid === user.uid ? 6 : st.gid === user.gid ? 3 : 0;
    return ((st.mode >> shift) & bit) !== 0;
  };
  const dirs: string[] = [];
  for (let d = dirname(file); ; d = dirname(d)) {
    dirs.unshift(d);
    if (d === parse(d).root) break;
  }
  for (const d of dirs) if (!allows(d, 0o1)) return d;
  return allows(file, 0o4) ? null : file;
}

/** Throws a GatewayError naming the user, the path and the fix when the child's code or Node-RED is out of its reach. */
export function assertCodeReachable(childPath: string, user: FlowsUser): void {
  let nodeRed: string | null = null;
  try {
    nodeRed = createRequire(childPath).resolve('node-red');
  } catch {
    // Not found at all: the child's own start says so.
  }
  for (const file of nodeRed ? [childPath, nodeRed] : [childPath]) {
    const blocked = blockedFor(file, user);
    if (blocked)
      throw new GatewayError(
        'CODE_UNREACHABLE',
        `the flows' user ${user.name} (uid ${user.uid}) cannot read ${file}: ${blocked} is closed to it; ` +
          `give the folders down to the agent's code o+x (chmod o+x ${blocked}) or install it under /opt`,
        { detail: { user: user.name, path: file, blocked } },
      );
  }
}
