/**
 * The agent's log, as a county's log shipper reads it: the real CLI agent with Node-RED and a
 * Modbus board (the panic panel) beside a real broker, through a few seconds of life: a flow
 * that warns every second (the Node-RED child's lines, relayed), the board going dead (the
 * device's and the bus's errors), a stop. Every line is parsed by a parser that refuses a key
 * said twice (a child logger's binding beside a call's field of the same name: `pid`, `part`,
 * `bus`), and every warn or worse carries a code from the one table.
 */
import { describe, expect, it } from 'vitest';
import { isErrorCode } from '../../core/kernel/errors.js';
import { nodeRedAdmin } from '../../scripts/bench/nodered-admin.js';
import { AgentChild } from '../helpers/agent-child.js';
import { useBroker, useCleanups } from '../helpers/lifecycle.js';
import { editorEnv, EDITOR_USER, injectedFunction } from '../helpers/node-red.js';
import { editorVillage } from '../helpers/editor-village.js';
import { DuplicateKeyError, parseStrictJson } from '../helpers/strict-json.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';
import { startCounty } from '../helpers/delivery.js';

const tempDir = useTempDirs();
const brokerRef = useBroker();
const cleanup = useCleanups();

const WARN = 40;
const FLOW_WARNING = 'the flow for the log test warns';

type Line = Record<string, unknown> & { level: number; msg?: string };

describe('log lines', () => {
  it('the strict parser refuses a key said twice, at any depth, and reads what JSON.parse reads', () => {
    expect(() => parseStrictJson('{"pid":1,"part":"a","pid":2}')).toThrow(DuplicateKeyError);
    expect(() => parseStrictJson('{"a":{"b":1,"c":[{"d":1,"d":2}]}}')).toThrow(/duplicate key "d" in \.a\.c\[0\]/);
    const text = '{"a":"x\\"y\\\\","b":[1,-2.5e3,true,null,{}],"c":{"a":"\\u00e9"}}';
    expect(parseStrictJson(text)).toEqual(JSON.parse(text));
  });

  it('a real agent with Node-RED and a failing device: no duplicate key, every warn and error with its code', async () => {
    const dir = tempDir();
    const gatewayId = 'gw-log-lines';
    const { panel, port, file } = await editorVillage(
      dir,
      // info too: a duplicate in any line counts
      { id: gatewayId, brokerUrl: brokerRef.current.url, extra: { log: { level: 'info' } } },
      cleanup,
    );
    const county = await startCounty(brokerRef.current.url, cleanup, 'county-log-lines');
    const agent = new AgentChild(file, editorEnv()).start();
    cleanup(() => agent.kill());
    const started = () => [...county.events.values()].some((e) => e.type === 'nodered.started');
    await waitUntil(() => started() || !agent.running, 60_000, 'Node-RED started');
    expect(agent.running, agent.output).toBe(true);
    const admin = await nodeRedAdmin(`http://127.0.0.1:${port}/`, EDITOR_USER.username, EDITOR_USER.password);
    await admin.deploy(injectedFunction(`node.warn(${JSON.stringify(FLOW_WARNING)});`, 1));
    await waitUntil(() => agent.output.includes(FLOW_WARNING), 20_000, 'the flow warning in the log');

    panel.board.dead = true; // the board stops answering: the device goes offline, the bus says why
    await waitUntil(() => agent.output.includes('modbus device offline'), 20_000, 'the device error in the log');
    expect(await agent.kill('SIGTERM')).toEqual({ code: 0, signal: null });

    const texts = agent.output.split('\n').filter((l) => l.trim() !== '');
    const lines = texts.map((t) => parseStrictJson(t) as Line); // throws at the first duplicate, naming it
    const failures = lines.filter((l) => l.level >= WARN);
    for (const l of failures) expect(isErrorCode(l['code']), JSON.stringify(l)).toBe(true);
    const flowWarning = failures.find((l) => l.msg?.includes(FLOW_WARNING)); // after Node-RED's "[function:...]"
    expect(flowWarning).toMatchObject({ code: 'NODE_RED_LOG', part: 'nodered', pid: agent.pid });
    expect(flowWarning!['childPid']).toEqual(expect.any(Number));
    expect(flowWarning!['childPid']).not.toBe(agent.pid);
    // A dead board does not answer: the request's own code (the driver's fallback is BUS_ERROR).
    expect(failures.find((l) => l.msg === 'modbus device offline')).toMatchObject({ device: 'io', code: 'TIMEOUT' });
    expect(lines.find((l) => l.msg === 'modbus bus connected')).toMatchObject({ bus: expect.any(String) });
  }, 120_000);
});
