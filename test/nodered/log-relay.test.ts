/**
 * The Node-RED child's log lines in the agent's log: at their level, within the budget, and
 * each warning or error with its code: NODE_RED_FAILED when the child's runtime says it
 * failed, NODE_RED_LOG for Node-RED's and the flows' own.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { isFromChild } from '../../core/contracts/nodered-ipc.js';
import { LogBudget } from '../../agent/nodered/log-budget.js';

describe("the child's log lines", () => {
  it('keep their level; warnings and errors carry NODE_RED_LOG, or NODE_RED_FAILED from the runtime', () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    const budget = new LogBudget(log, () => 0);
    budget.relay(log, { level: 'info', msg: 'Started flows' });
    budget.relay(log, { level: 'warn', msg: '[function:f] a flow warns' });
    budget.relay(log, { level: 'fatal', msg: 'Node-RED did not start: EADDRINUSE', runtime: true });
    expect(lines.map((l) => [l['level'], l['code'], l['msg']])).toEqual([
      [30, undefined, 'Started flows'],
      [40, 'NODE_RED_LOG', '[function:f] a flow warns'],
      [60, 'NODE_RED_FAILED', 'Node-RED did not start: EADDRINUSE'],
    ]);
  });

  it('the channel takes runtime: true or nothing', () => {
    expect(isFromChild({ t: 'log', level: 'error', msg: 'm', runtime: true })).toBe(true);
    expect(isFromChild({ t: 'log', level: 'error', msg: 'm' })).toBe(true);
    expect(isFromChild({ t: 'log', level: 'error', msg: 'm', runtime: 'yes' })).toBe(false);
  });
});
