/**
 * Which user the Node-RED child runs as. An agent running as root (a dev box, CI) starts it as
 * `nodeRed.user` (default village-gateway-flows; `nobody` when that user does not exist), so a
 * flow cannot read the agent's process, config or data. An agent that is not root cannot
 * switch (the shipped unit has no capabilities): the child runs under the agent's uid, said
 * once as a warning; in production the flows' own unit runs it instead (nodeRed.launch: systemd).
 */
import { chmodSync, lchownSync, lstatSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { failure } from '../../core/kernel/errors.js';

export interface FlowsUser {
  name: string;
  uid: number;
  gid: number;
}

const NOBODY: FlowsUser = { name: 'nobody', uid: 65534, gid: 65534 };

/** The user from /etc/passwd (Node has no getpwnam), or null. */
export function lookUpUser(name: string, passwd = '/etc/passwd'): FlowsUser | null {
  let text: string;
  try {
    text = readFileSync(passwd, 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined) return { name, uid: Number(uid), gid: Number(gid) };
  }
  return null;
}

/** The user to start the child as, or null to start it as the agent's own uid (warned once here). */
export function flowsUser(name: string, logger: Logger): FlowsUser | null {
  if (process.getuid?.() !== 0) {
    logger.warn(
      failure('FLOWS_USER', null, { uid: process.getuid?.() }),
      "the agent is not root and cannot switch users: the flows run under the agent's uid (in production use nodeRed.launch: systemd and the flows' own unit)",
    );
    return null;
  }
  const user = lookUpUser(name);
  if (user && user.uid !== 0) return user;
  logger.warn(
    failure('FLOWS_USER', null, { user: name }),
    `no such user for the flows: running them as nobody (${NOBODY.uid})`,
  );
  return NOBODY;
}

/**
 * The child's userDir belongs to the flows' user (it writes its flows, credentials and context
 * there), the data folder around it stays the agent's: 0750, so the flows' user can neither
 * list nor traverse it (the child reaches its userDir through its working directory).
 */
export function prepareUserDir(dataDir: string, userDir: string, user: FlowsUser): void {
  mkdirSync(userDir, { recursive: true });
  chmodSync(dataDir, 0o750);
  // Handed over once, while it is still the agent's (nothing of the flows' user can be in it yet);
  // once it is theirs it is never walked as root again: a symlink they plant must not be followed.
  if (lstatSync(userDir).uid !== user.uid) chownTree(userDir, user);
  chmodSync(userDir, 0o700);
}

function chownTree(path: string, user: FlowsUser): void {
  const st = lstatSync(path);
  lchownSync(path, user.uid, user.gid);
  if (st.isDirectory()) for (const e of readdirSync(path)) chownTree(join(path, e), user);
}
