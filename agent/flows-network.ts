/**
 * `village-gateway flows-unit`: the systemd drop-in that closes the device buses to the flows'
 * process (issue 17). `flowWritable` is the flows' only way to drive an output, but a core
 * `tcp request` node (or a function node with net) reaches a Modbus TCP device directly and
 * writes a coil; the flows' unit (deploy/village-gateway-flows.service) gets `IPAddressDeny=`
 * with every Modbus TCP bus's address, so the kernel refuses those connections whatever node
 * tries. scripts/install.sh writes the output to
 * /etc/systemd/system/village-gateway-flows.service.d/10-deny-buses.conf.
 *
 * IPAddressDeny takes addresses and prefixes, no names and no ports: a host name is resolved
 * here (every address it has now; the drop-in says to write it again when that changes) or
 * refused. A bus on a loopback address is not denied: that would also cut the editor, which
 * listens on loopback; the drop-in says so in a comment.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { GatewayConfig } from '../config/schema/gateway-config.js';
import { GatewayError } from '../core/kernel/errors.js';

/** Every address a host name has (the default: the system's resolver, as the agent's driver uses). */
export type Resolve = (host: string) => Promise<string[]>;
const systemResolve: Resolve = async (host) => (await lookup(host, { all: true })).map((a) => a.address);

const isLoopback = (address: string): boolean =>
  address === '::1' || address.startsWith('127.') || address.toLowerCase().startsWith('::ffff:127.');

export interface BusAddresses {
  bus: string;
  host: string;
  addresses: string[];
}

/** Each Modbus TCP bus with the addresses its host has; throws HOST_UNRESOLVED naming the bus. */
export async function busAddresses(
  config: Pick<GatewayConfig, 'buses'>,
  resolve: Resolve = systemResolve,
): Promise<BusAddresses[]> {
  const out: BusAddresses[] = [];
  for (const b of config.buses) {
    if (b.type !== 'modbus-tcp') continue;
    if (isIP(b.host)) {
      out.push({ bus: b.id, host: b.host, addresses: [b.host] });
      continue;
    }
    let addresses: string[];
    try {
      addresses = await resolve(b.host);
    } catch {
      addresses = []; // ENOTFOUND, EAI_AGAIN: refused just below, with the bus named
    }
    if (addresses.length === 0)
      throw new GatewayError(
        'HOST_UNRESOLVED',
        `bus "${b.id}": host "${b.host}" does not resolve here; IPAddressDeny takes addresses, so the flows could reach it: ` +
          'write its address in the config (buses[].host), or make the name resolve, and run this again',
      );
    out.push({ bus: b.id, host: b.host, addresses: [...new Set(addresses)].sort() });
  }
  return out;
}

/** The drop-in's text for the buses (pure: the unit test checks it line by line). */
export function denyDropIn(buses: BusAddresses[], configFile: string): string {
  const lines = [
    `# Written by \`village-gateway flows-unit --config ${configFile}\` (scripts/install.sh): the flows`,
    '# may not open connections to the device buses (docs/technician.md, Node-RED). Write it again when the',
    '# buses change (host names are resolved when it is written); then `systemctl daemon-reload`.',
  ];
  const deny: string[] = [];
  for (const b of buses) {
    const named = b.host === b.addresses[0] && b.addresses.length === 1 ? '' : ` (${b.host})`;
    const loop = b.addresses.filter(isLoopback);
    const rest = b.addresses.filter((a) => !isLoopback(a));
    if (loop.length > 0)
      lines.push(`# bus ${b.bus}${named}: ${loop.join(' ')} is loopback, not denied (the editor listens there)`);
    if (rest.length > 0) {
      lines.push(`# bus ${b.bus}${named}`);
      deny.push(...rest);
    }
  }
  if (buses.length === 0) lines.push('# no Modbus TCP bus in the config: nothing to deny');
  lines.push('[Service]');
  // Never an empty `IPAddressDeny=`: that line would reset a list the unit itself sets.
  for (const a of [...new Set(deny)]) lines.push(`IPAddressDeny=${a}`);
  return `${lines.join('\n')}\n`;
}

/** What `flows-unit` prints. */
export async function flowsUnitDropIn(
  config: Pick<GatewayConfig, 'buses'>,
  configFile: string,
  resolve?: Resolve,
): Promise<string> {
  return denyDropIn(await busAddresses(config, resolve), configFile);
}
