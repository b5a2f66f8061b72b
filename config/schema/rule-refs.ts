/**
 * A rule that names an event type, a device or a tag that nothing in the config produces
 * never fires, and nothing says so until a resident presses and no siren sounds. The names a
 * rule matches on are free text (a profile or a flow may bring its own types and device ids),
 * so only a near miss is refused: a name that is not known but is a typo or two away from one
 * that is (`alarm.presed`, `gate-dor`), with the name meant.
 */
import { EVENT_TYPES } from '../../core/contracts/events/catalogue.js';
import { nearest } from '../did-you-mean.js';
import { eventIdClaims, obj, type IdProblem } from './event-ids.js';

/** Problems for the near-miss names in every rule's matchers (when, trigger.until, trigger.first). */
export function ruleRefProblems(rules: unknown, devices: unknown): IdProblem[] {
  const ids = new Set(eventIdClaims(devices).map((c) => c.id));
  const tags = new Set(
    (Array.isArray(devices) ? (devices as unknown[]) : []).flatMap((d) => {
      const t = obj(d).tags;
      return Array.isArray(t) ? t.filter((x): x is string => typeof x === 'string') : [];
    }),
  );
  const problems: IdProblem[] = [];
  const check = (
    name: unknown,
    known: Iterable<string>,
    has: (n: string) => boolean,
    path: (string | number)[],
    what: string,
  ) => {
    if (typeof name !== 'string' || has(name)) return;
    const meant = nearest(name, known);
    if (meant !== undefined)
      problems.push({
        path,
        message: `no ${what} is called "${name}": did you mean "${meant}"? (this rule would never fire)`,
      });
  };
  const matcher = (m: unknown, path: (string | number)[]) => {
    const { type, devices: devs, tags: tg } = obj(m);
    const types = Array.isArray(type) ? type : [type];
    types.forEach((t, i) =>
      check(
        t,
        EVENT_TYPES,
        (n) => (EVENT_TYPES as string[]).includes(n),
        Array.isArray(type) ? [...path, 'type', i] : [...path, 'type'],
        'event type',
      ),
    );
    if (Array.isArray(devs))
      devs.forEach((d, i) => check(d, ids, (n) => ids.has(n), [...path, 'devices', i], 'device, input or sensor'));
    if (Array.isArray(tg)) tg.forEach((t, i) => check(t, tags, (n) => tags.has(n), [...path, 'tags', i], 'device tag'));
  };
  (Array.isArray(rules) ? (rules as unknown[]) : []).forEach((r, i) => {
    const rule = obj(r);
    matcher(rule.when, ['rules', i, 'when']);
    const trigger = obj(rule.trigger);
    if (trigger.until !== undefined) matcher(trigger.until, ['rules', i, 'trigger', 'until']);
    if (trigger.first !== undefined) matcher(trigger.first, ['rules', i, 'trigger', 'first']);
  });
  return problems;
}

/** A rule's `snapshot` action must name a camera device (driver: camera): anything else never gives a picture. */
export function snapshotCameraProblems(rules: unknown, devices: unknown): IdProblem[] {
  const cameras = (Array.isArray(devices) ? (devices as unknown[]) : [])
    .map(obj)
    .filter((d) => d.driver === 'camera' && typeof d.id === 'string')
    .map((d) => d.id as string);
  const problems: IdProblem[] = [];
  (Array.isArray(rules) ? (rules as unknown[]) : []).forEach((r, i) => {
    const actions = obj(r).actions;
    (Array.isArray(actions) ? (actions as unknown[]) : []).forEach((a, j) => {
      const { do: what, camera } = obj(a);
      if (what !== 'snapshot' || typeof camera !== 'string' || cameras.includes(camera)) return;
      const meant = nearest(camera, cameras);
      problems.push({
        path: ['rules', i, 'actions', j, 'camera'],
        message: `no camera device is called "${camera}"${meant !== undefined ? `: did you mean "${meant}"?` : ''} (cameras: ${cameras.join(', ') || 'none'})`,
      });
    });
  });
  return problems;
}
