/**
 * Loads each device's profile and checks the device's bindings (inputs, outputs, LEDs, rule
 * outputs) against it. A profile that cannot be loaded is reported once, naming every device
 * that uses it, and nothing that depends on it is reported again (its outputs are unknown, not
 * wrong).
 */
import { didYouMean } from './did-you-mean.js';
import { loadProfile } from './load-profile.js';
import type { ConfigView } from './partial-config.js';
import type { DeviceProfile } from './schema/profile.js';
import type { ConfigProblem } from './zod-problems.js';

const list = (names: string[]) => (names.length > 8 ? `${names.slice(0, 8).join(', ')}, ...` : names.join(', '));

export function resolveProfiles(
  cfg: ConfigView,
  baseDir: string,
): { profiles: Map<string, DeviceProfile>; problems: ConfigProblem[] } {
  const profiles = new Map<string, DeviceProfile>();
  const problems: ConfigProblem[] = [];
  const cache = new Map<string, ReturnType<typeof loadProfile>>();
  const broken = new Map<string, number[]>(); // profile id -> devices using it, in file order
  const unchecked = new Set<string>(); // devices whose outputs cannot be known
  cfg.devices.forEach((d, i) => {
    if (!d || d.driver === 'synthetic') return;
    const at = (rest: string) => `devices[${i}]${rest}`;
    const res = cache.get(d.profile) ?? loadProfile(d.profile, baseDir);
    cache.set(d.profile, res);
    if (!res.ok) {
      broken.set(d.profile, [...(broken.get(d.profile) ?? []), i]);
      unchecked.add(d.id);
      return;
    }
    const prof = res.profile;
    if (prof.transport !== d.driver) {
      problems.push({
        path: at('.profile'),
        message: `profile ${prof.id} is for ${prof.transport} devices, not ${d.driver}`,
      });
      unchecked.add(d.id);
      return;
    }
    profiles.set(d.id, prof);
    if (prof.transport !== 'modbus' || d.driver !== 'modbus') return;
    for (const [name, role] of Object.entries(d.inputs)) {
      if (!(name in prof.inputs))
        problems.push({
          path: at(`.inputs.${name}`),
          message: `unknown input for profile ${prof.id}${didYouMean(name, Object.keys(prof.inputs))} (it has ${list(Object.keys(prof.inputs))})`,
        });
      if (role.role === 'alarm-button' && role.led !== undefined && !(role.led in prof.outputs)) {
        problems.push({
          path: at(`.inputs.${name}.led`),
          message: `unknown output "${role.led}" for profile ${prof.id}${didYouMean(role.led, Object.keys(prof.outputs))} (it has ${list(Object.keys(prof.outputs)) || 'none'})`,
        });
      }
    }
    for (const name of Object.keys(d.outputs)) {
      if (!(name in prof.outputs))
        problems.push({
          path: at(`.outputs.${name}`),
          message: `unknown output for profile ${prof.id}${didYouMean(name, Object.keys(prof.outputs))} (it has ${list(Object.keys(prof.outputs)) || 'none'})`,
        });
    }
    if (d.unitId === 255 && prof.defaults.unitId !== 255) {
      problems.push({
        path: at('.unitId'),
        message: `255 is only for boards that ship with it; profile ${prof.id} does not (default ${prof.defaults.unitId})`,
      });
    }
  });
  for (const [id, users] of broken) {
    const res = cache.get(id)!;
    const also =
      users.length > 1
        ? ` (also used by ${users
            .slice(1)
            .map((i) => `devices[${i}]`)
            .join(', ')})`
        : '';
    if (!res.ok)
      for (const p of res.problems)
        problems.push({ path: `devices[${users[0]}].profile`, message: `${p.message}${also}` });
  }
  const parsedIds = cfg.devices.flatMap((d) => (d ? [d.id] : []));
  const knownIds = new Set([...parsedIds, ...(cfg.deviceIds ?? [])]);
  cfg.rules.forEach((rule, i) => {
    rule?.actions.forEach((a, j) => {
      if (a.do !== 'output') return;
      const at = `rules[${i}].actions[${j}]`;
      const dev = cfg.devices.find((d) => d?.id === a.device);
      if (!dev) {
        // A device that is in the file but did not parse has its own problem already.
        if (!knownIds.has(a.device))
          problems.push({
            path: `${at}.device`,
            message: `unknown device "${a.device}"${didYouMean(a.device, knownIds)}`,
          });
        return;
      }
      if (unchecked.has(dev.id)) return;
      const prof = profiles.get(dev.id);
      if (prof?.transport !== 'modbus' || !(a.output in prof.outputs)) {
        const outputs = prof?.transport === 'modbus' ? Object.keys(prof.outputs) : [];
        problems.push({
          path: `${at}.output`,
          message: `device "${a.device}" has no output "${a.output}"${didYouMean(a.output, outputs)}${prof?.transport === 'modbus' ? ` (it has ${outputs.join(', ') || 'none'})` : ''}`,
        });
      }
    });
  });
  return { profiles, problems };
}
