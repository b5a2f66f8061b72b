/**
 * The county's example broker topology (scripts/brokers/county/*.conf: a core broker and a
 * district edge bridged into it), run here as written, with only what a machine needs put in:
 * the test's free port on loopback, a temporary persistence folder and, for an edge, the core's
 * address. A substitution that finds nothing to replace is an error, so an edit to the example
 * that the tests no longer exercise fails loudly instead of testing something else.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Mosquitto } from './mosquitto.js';

export type CountyBrokerRole = 'core' | 'district-edge';

/** scripts/brokers/ in the source tree, from dist/scripts/brokers/ too: the .conf files are not compiled. */
export function brokersSourceDir(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  return here.replace(/\/dist\/scripts\/brokers\/$/, '/scripts/brokers/');
}

export function countyConfigPath(role: CountyBrokerRole): string {
  return `${brokersSourceDir()}county/${role}.conf`;
}

export function renderCountyConfig(
  role: CountyBrokerRole,
  at: { port: number; dir: string },
  corePort?: number,
): string {
  let text = readFileSync(countyConfigPath(role), 'utf8');
  const put = (pattern: RegExp, line: string) => {
    if (!pattern.test(text)) throw new Error(`${role}.conf has no line matching ${pattern}`);
    text = text.replace(pattern, line);
  };
  put(/^listener 1883$/m, `listener ${at.port} 127.0.0.1`);
  put(/^persistence_location .*$/m, `persistence_location ${at.dir}/`);
  if (role === 'district-edge') {
    if (corePort === undefined) throw new Error('a district edge needs the core port');
    put(/^address .*$/m, `address 127.0.0.1:${corePort}`);
  }
  return text;
}

/** A core and a district edge bridged into it, both real Mosquittos on free loopback ports. */
export async function startCountyTopology(bin: string): Promise<{ core: Mosquitto; edge: Mosquitto }> {
  const core = await new Mosquitto(bin, { render: (at) => renderCountyConfig('core', at) }).start();
  try {
    const edge = await new Mosquitto(bin, {
      render: (at) => renderCountyConfig('district-edge', at, core.port),
    }).start();
    return { core, edge };
  } catch (err) {
    await core.dispose();
    throw err;
  }
}
