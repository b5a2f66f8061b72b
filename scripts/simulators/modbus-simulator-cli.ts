/**
 * The Modbus TCP simulator as a process of its own, so a test can freeze it (SIGSTOP) like a
 * gateway whose firmware hung: its kernel still accepts and acknowledges, nothing answers,
 * and a close the agent starts is never finished by the other side.
 *
 *   node dist/scripts/simulators/modbus-simulator-cli.js --port 1502 --unit 1:waveshare-modbus-rtu-io-8ch [--unit ...]
 *
 * prints `{"listening":<port>}` once it accepts connections; SIGTERM ends it.
 */
import { parseArgs } from 'node:util';
import { requireProfile } from '../../config/load-profile.js';
import { ModbusSimulator } from './modbus-simulator.js';

const { values } = parseArgs({ options: { port: { type: 'string' }, unit: { type: 'string', multiple: true } } });
const port = Number(values.port);
if (!Number.isInteger(port) || port <= 0) throw new Error('--port N is required');
const sim = new ModbusSimulator();
for (const spec of values.unit ?? []) {
  const [id, profile] = spec.split(':');
  sim.addUnit(Number(id), requireProfile(profile!, 'modbus'));
}
await sim.listenTcp(port);
process.stdout.write(`${JSON.stringify({ listening: port })}\n`);
process.on('SIGTERM', () => void sim.close().then(() => process.exit(0)));
