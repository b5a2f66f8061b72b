/**
 * The county broker with per-gateway logins and an ACL (scripts/brokers/county-acl/), run as
 * written with only what a machine needs put in: the test's free port on loopback, its folder
 * for persistence, a password file made with mosquitto_passwd for the given users, and the ACL
 * file. A substitution that finds nothing to replace is an error, so an edit to the example
 * that the tests no longer exercise fails loudly instead of testing something else.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brokersSourceDir } from './county-topology.js';

export const countyAclDir = (): string => `${brokersSourceDir()}county-acl/`;

export function renderCountyAclConfig(at: { port: number; dir: string }, users: Record<string, string>): string {
  const passwd = join(at.dir, 'passwd');
  writeFileSync(passwd, '');
  for (const [user, password] of Object.entries(users)) {
    const r = spawnSync('mosquitto_passwd', ['-b', passwd, user, password]);
    if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr?.toString() ?? r.error?.message}`);
  }
  const acl = join(at.dir, 'acl');
  copyFileSync(`${countyAclDir()}acl`, acl);
  let text = readFileSync(`${countyAclDir()}mosquitto.conf`, 'utf8');
  const put = (pattern: RegExp, line: string) => {
    if (!pattern.test(text)) throw new Error(`county-acl/mosquitto.conf has no line matching ${pattern}`);
    text = text.replace(pattern, line);
  };
  put(/^listener 1883$/m, `listener ${at.port} 127.0.0.1`);
  put(/^persistence_location .*$/m, `persistence_location ${at.dir}/`);
  put(/^password_file .*$/m, `password_file ${passwd}`);
  put(/^acl_file .*$/m, `acl_file ${acl}`);
  return text;
}
