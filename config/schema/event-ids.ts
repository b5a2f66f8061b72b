/**
 * One name, one thing: the ids a config gives devices, their inputs and their sensors are the
 * `deviceId` of the events they raise, which rules, tags and the county match on. Two inputs
 * with the same id would make a press on one look like a press on the other, so every such
 * id must be unique. Read defensively: this runs on a config that may be wrong elsewhere.
 */
import { inputEventDeviceId } from './devices.js';

export interface IdProblem {
  path: (string | number)[];
  message: string;
}

const where = (path: (string | number)[]) =>
  path
    .slice(0, -1)
    .map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`))
    .join('');

/** Each id a config gives devices, inputs and sensors (the deviceId of their events), where it is given. */
export function eventIdClaims(devices: unknown): { id: string; path: (string | number)[]; what: string }[] {
  const claims: { id: string; path: (string | number)[]; what: string }[] = [];
  const claim = (id: unknown, path: (string | number)[], what: string) => {
    if (typeof id === 'string') claims.push({ id, path, what });
  };
  const list = Array.isArray(devices) ? (devices as unknown[]) : [];
  list.forEach((d, i) => claim(obj(d).id, ['devices', i, 'id'], 'device'));
  list.forEach((d, i) => {
    const dev = obj(d);
    for (const [name, role] of Object.entries(obj(dev.inputs))) {
      const explicit = obj(role).id;
      if (explicit !== undefined) claim(explicit, ['devices', i, 'inputs', name, 'id'], 'input');
      else if (typeof dev.id === 'string')
        claim(inputEventDeviceId(dev.id, name, {}), ['devices', i, 'inputs', name, 'id'], 'input');
    }
    for (const [code, sensor] of Object.entries(obj(dev.sensors)))
      claim(obj(sensor).id, ['devices', i, 'sensors', code, 'id'], 'sensor');
  });
  return claims;
}

/** A problem for every id used a second time, naming the first user. */
export function eventIdProblems(devices: unknown): IdProblem[] {
  const problems: IdProblem[] = [];
  const first = new Map<string, (string | number)[]>();
  for (const { id, path, what } of eventIdClaims(devices)) {
    const prior = first.get(id);
    if (!prior) {
      first.set(id, path);
      continue;
    }
    const message =
      prior.length === 3 && path.length === 3
        ? `duplicate device id "${id}" (also devices[${prior[1]}])`
        : `"${id}" is already the id of ${where(prior)}: each device, input and sensor needs its own (it is the deviceId of its events) - rename this ${what}`;
    problems.push({ path, message });
  }
  return problems;
}

export const obj = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
