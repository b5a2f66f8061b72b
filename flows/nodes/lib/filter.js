'use strict';
/**
 * What `village in` matches, checked once when the node starts (so a bad pattern is an error
 * in the editor, not a silent node) and evaluated per event without allocation.
 *
 *   device    '' (any), an id (`storehouse-door`) or a glob (`door-*`, `pump-?`)
 *   tag       '' (any) or one tag the device must carry (the agent sends device tags with the event)
 *   types     '' (any) or a comma-separated list of types (`door.opened`) or prefixes (`door.*`)
 *   priority  the least urgent priority that passes: critical, high, normal or low (all)
 */

const PRIORITY_RANK = { critical: 0, high: 1, normal: 2, low: 3 };
const DEVICE_GLOB = /^[A-Za-z0-9_.*?-]{1,64}$/;
const TYPE_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?$/;
const TAG = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function splitList(s) {
  return String(s || '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

/** The problems with a filter config, one string each ([] when it is fine). */
function checkFilter(cfg) {
  const problems = [];
  const device = String(cfg.device || '').trim();
  if (device !== '' && !DEVICE_GLOB.test(device))
    problems.push(`device '${device}' is not a device id or glob (letters, digits, _ . - * ?)`);
  const tag = String(cfg.tag || '').trim();
  if (tag !== '' && !TAG.test(tag)) problems.push(`tag '${tag}' is not a tag name`);
  for (const t of splitList(cfg.types))
    if (t !== '*' && !TYPE_PATTERN.test(t))
      problems.push(`type '${t}' is neither a type (door.opened) nor a prefix (door.*)`);
  const priority = cfg.priority || 'low';
  if (!(priority in PRIORITY_RANK)) problems.push(`priority '${priority}' is not critical, high, normal or low`);
  return problems;
}

function globToRegExp(glob) {
  const body = glob
    .replace(/[.+^${}()|[\]\\-]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** (event, meta) => boolean for a filter config; throws an Error naming every problem. */
function compileFilter(cfg) {
  const problems = checkFilter(cfg);
  if (problems.length > 0) {
    const err = new Error(problems.join('; '));
    err.code = 'INVALID_CONFIG';
    throw err;
  }
  const device = String(cfg.device || '').trim();
  const deviceTest =
    device === '' || device === '*'
      ? null
      : /[*?]/.test(device)
        ? (
            (re) => (id) =>
              re.test(id)
          )(globToRegExp(device))
        : (id) => id === device;
  const tag = String(cfg.tag || '').trim();
  const types = splitList(cfg.types);
  const exact = new Set(types.filter((t) => !t.endsWith('*')));
  // 'door.*' matches 'door.opened' and 'door.closed' (not 'doorbell.rang'); '*' matches all.
  const prefixes = types.filter((t) => t.endsWith('*')).map((t) => t.slice(0, -1));
  const anyType = types.length === 0 || prefixes.includes('');
  const maxRank = PRIORITY_RANK[cfg.priority || 'low'];
  return (event, meta) => {
    if (deviceTest !== null && !deviceTest(event.deviceId)) return false;
    if (!anyType && !exact.has(event.type) && !prefixes.some((p) => event.type.startsWith(p))) return false;
    const rank = PRIORITY_RANK[event.priority];
    if (rank === undefined || rank > maxRank) return false;
    if (tag !== '' && !(meta && Array.isArray(meta.tags) && meta.tags.includes(tag))) return false;
    return true;
  };
}

module.exports = { compileFilter, checkFilter, PRIORITY_RANK };
